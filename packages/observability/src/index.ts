export * from './logger';
export * from './metrics';
export * from './health';
export * from './process-checks';
export * from './ops-server';
export * from './shutdown';
