export * from './services';
export * from './database';
export * from './processes';
export * from './tcp-proxy';
export * from './dedicated-brokers';
export * from './outbox-notices';
export * from './published-events';
