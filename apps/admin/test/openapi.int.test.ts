import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@orchestron/testing';
import { adminRoutes } from '../src/routes';
import { AdminHarness } from './harness';
import { adminDocument } from './openapi-check';

// The OpenAPI document: served, complete, and clean under a real OpenAPI linter (Redocly's
// recommended rules, warnings included).

let harness: AdminHarness;
let directory: string;

beforeAll(async () => {
  harness = await AdminHarness.start('admin_openapi');
  directory = mkdtempSync(path.join(tmpdir(), 'orchestron-openapi-'));
});

afterAll(async () => {
  await harness?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function lint(document: unknown): Promise<{ ok: boolean; problems: string }> {
  const file = path.join(directory, `openapi-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(document));
  try {
    await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'scripts/lint-openapi.mjs'), file], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    return { ok: true, problems: '' };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (failed.code !== 1) throw error;
    return { ok: false, problems: failed.stdout ?? '' };
  }
}

it('serves an OpenAPI 3.1 document without a key, with every route of the route table in it', async () => {
  const response = await harness.call('GET', '/v1/openapi.json');
  expect(response.status).toBe(200);
  const document = response.body as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
  expect(document.openapi).toBe('3.1.0');
  const routes = adminRoutes({ db: undefined as never, apiKeys: undefined as never, settings: undefined as never });
  for (const route of routes) expect(document.paths[route.path]?.[route.method]?.operationId).toBeTruthy();
  expect(document).toEqual(adminDocument());
});

it('passes the Redocly linter with no error and no warning', async () => {
  const result = await lint(adminDocument());
  expect(result.problems).toBe('');
  expect(result.ok).toBe(true);
}, 90_000);

it('is checked by a linter that does find problems', async () => {
  const broken = adminDocument() as { paths: Record<string, Record<string, Record<string, unknown>>> };
  broken.paths['/v1/events']!.get!.operationId = 'getBacklog';
  const result = await lint(broken);
  expect(result.ok).toBe(false);
  expect(result.problems).toMatch(/operation-operationId-unique/);
}, 90_000);
