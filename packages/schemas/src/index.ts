export * from './registry';
export * from './keywords';
