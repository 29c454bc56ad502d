export * from './request';
export * from './replays';
export * from './store';
export * from './runner';
