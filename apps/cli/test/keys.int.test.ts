import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { runCli } from './run-cli';

// `orchestron keys create` gives keys roles from the fixed set only (docs/admin.md).

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('cli_keys');
});

afterAll(async () => {
  await database.drop();
});

const keys = (...args: string[]) => runCli(['keys', ...args], { DATABASE_URL: database.url });

it('creates a key with admin API roles', async () => {
  const result = await keys('create', '--name', 'ops', '--roles', 'viewer,operator', '--json');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ name: 'ops', roles: ['viewer', 'operator'] });
});

it('refuses a role outside the fixed set, naming the valid ones, and stores nothing', async () => {
  const result = await keys('create', '--name', 'root', '--roles', 'admin,superuser');
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/unknown role superuser; roles are ingest, viewer, operator, admin/);
  expect(await database.db('api_keys').where({ name: 'root' }).first()).toBeUndefined();
});
