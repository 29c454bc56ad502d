import { isUnrestricted } from '@orchestron/db';
import { rolesGrant, ROLES, UNSCOPED_PERMISSIONS } from '../src/access/roles';
import { adminRoutes } from '../src/routes';
import type { AdminRoute } from '../src/access/route-table';
import { AdminHarness } from './harness';

/**
 * Every route x role x scope: a key gets past authorisation exactly when one of its roles
 * grants the route's permission (and, for keys and the audit log, it is not limited to some
 * sources or types). Refused attempts at state-changing routes are in the audit log.
 */

let harness: AdminHarness;
let created = 0;

/** A request each route can be called with; a route without one fails the matrix. */
const EXAMPLES: Record<string, () => { url: string; body?: unknown }> = {
  'get /v1/backlog': () => ({ url: '/v1/backlog' }),
  'get /v1/openapi.json': () => ({ url: '/v1/openapi.json' }),
  'get /v1/events': () => ({ url: '/v1/events?limit=5' }),
  'get /v1/events/{id}': () => ({ url: '/v1/events/00000000-0000-7000-8000-000000000000' }),
  'get /v1/dead-letters': () => ({ url: '/v1/dead-letters' }),
  'get /v1/dead-letters/{id}': () => ({ url: '/v1/dead-letters/1' }),
  'post /v1/dead-letters/replay': () => ({ url: '/v1/dead-letters/replay', body: { ids: [1], dry_run: true } }),
  'post /v1/dead-letters/discard': () => ({ url: '/v1/dead-letters/discard', body: { ids: [1], dry_run: true } }),
  'get /v1/keys': () => ({ url: '/v1/keys' }),
  'post /v1/keys': () => ({ url: '/v1/keys', body: { name: `made-${++created}`, roles: ['viewer'] } }),
  'post /v1/keys/{name}/revoke': () => ({ url: '/v1/keys/no-such-key/revoke' }),
  'post /v1/keys/{name}/rotate': () => ({ url: '/v1/keys/no-such-key/rotate' }),
  'get /v1/audit': () => ({ url: '/v1/audit' }),
  'post /v1/replays': () => ({ url: '/v1/replays', body: { filter: { since: '1h' }, dry_run: true } }),
  'get /v1/replays': () => ({ url: '/v1/replays' }),
  'get /v1/replays/{id}': () => ({ url: '/v1/replays/0193a0b0-0000-7000-8000-000000000001' }),
  'post /v1/replays/{id}/cancel': () => ({ url: '/v1/replays/0193a0b0-0000-7000-8000-000000000001/cancel' }),
};

const SCOPES = {
  unrestricted: { sources: ['*'], types: ['*'] },
  scoped: { sources: ['shop-*'], types: ['order.*'] },
};
const KEY_ROLES: Array<readonly string[]> = [[], ...ROLES.map((role) => [role])];

const routes: AdminRoute[] = adminRoutes({
  db: undefined as never,
  apiKeys: undefined as never,
  settings: undefined as never,
});
const keyName = (roles: readonly string[], scope: string) => `${roles.join('+') || 'no-role'}-${scope}`;

beforeAll(async () => {
  harness = await AdminHarness.start('admin_access');
  for (const roles of KEY_ROLES) {
    for (const [scopeName, scope] of Object.entries(SCOPES)) {
      await harness.createKey(keyName(roles, scopeName), { roles: [...roles], ...scope });
    }
  }
});

afterAll(async () => {
  await harness?.stop();
});

it('has an example request for every route of the route table', () => {
  expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(EXAMPLES).sort());
});

describe.each(routes.map((route) => [`${route.method.toUpperCase()} ${route.path}`, route] as const))(
  '%s',
  (_name, route) => {
    const example = () => EXAMPLES[`${route.method} ${route.path}`]!();

    it('refuses a request without a key with 401, unless the route is public', async () => {
      const { url, body } = example();
      const response = await harness.call(route.method === 'get' ? 'GET' : 'POST', url, {
        body,
        operationPath: route.path,
      });
      if (route.permission === 'public') expect(response.status).toBe(200);
      else expect(response.status).toBe(401);
    });

    it('refuses an unknown key with 401', async () => {
      const { url, body } = example();
      const response = await harness.call(route.method === 'get' ? 'GET' : 'POST', url, {
        as: 'secret:orc_not-a-key',
        body,
        operationPath: route.path,
      });
      expect(response.status).toBe(401);
    });

    for (const roles of KEY_ROLES) {
      for (const [scopeName, scope] of Object.entries(SCOPES)) {
        const allowed =
          route.permission === 'public' ||
          (rolesGrant(roles, route.permission) &&
            (!UNSCOPED_PERMISSIONS.includes(route.permission) || isUnrestricted(scope)));
        it(`${allowed ? 'lets through' : 'refuses with 403'} a key with roles [${roles.join(', ')}], ${scopeName}`, async () => {
          const { url, body } = example();
          const name = keyName(roles, scopeName);
          const auditBefore = await refusedEntries(name);
          const response = await harness.call(route.method === 'get' ? 'GET' : 'POST', url, {
            as: name,
            body,
            operationPath: route.path,
          });
          if (allowed) {
            expect([401, 403]).not.toContain(response.status);
            expect(response.status).toBeLessThan(500);
          } else {
            expect(response.status).toBe(403);
            expect((response.body as { detail: string }).detail).toContain(name);
            // A refused attempt to change state is recorded; a refused read is not.
            expect(await refusedEntries(name)).toBe(auditBefore + (route.auditAction ? 1 : 0));
          }
        });
      }
    }
  },
);

async function refusedEntries(actor: string): Promise<number> {
  const [row] = (await harness.db('audit_log').where({ actor, outcome: 'refused' }).count({ n: '*' })) as Array<{
    n: string;
  }>;
  return Number(row?.n);
}
