// Two projects: `unit` (pure logic, no services) and `integration` (real Postgres,
// RabbitMQ and Kafka; files named *.int.test.ts). Tests import workspace packages from
// their TypeScript sources, so no build is needed for them; end-to-end tests that spawn
// the apps run the built dist/ (npm test builds first).
const workspaceSources = {
  '^@orchestron/(config|observability|db|schemas|routing|broker|broker-kafka|broker-rabbitmq|testing|http|replay|consumer)$':
    '<rootDir>/packages/$1/src',
  '^@orchestron/(config|observability|db|schemas|routing|broker|broker-kafka|broker-rabbitmq|testing|http|replay|consumer)/(.*)$':
    '<rootDir>/packages/$1/src/$2',
};
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
};
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  moduleNameMapper: workspaceSources,
  transform,
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.test.ts', '<rootDir>/test/deploy/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/packages/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/packages/testing/src/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/packages/testing/src/jest-integration-setup.ts'],
    },
  ],
};
