export * from './route';
export * from './rules';
export * from './glob';
export * from './json-pointer';
