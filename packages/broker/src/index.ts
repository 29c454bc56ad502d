export * from './message';
export * from './errors';
export * from './publisher';
export * from './logger';
export * from './event-time';
// Test support, deliberately neither exported here nor built: conformance.ts (jest globals);
// adapters' tests import it as '@orchestron/broker/conformance'.
