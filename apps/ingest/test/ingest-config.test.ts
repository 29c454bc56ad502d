import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type OrchestronConfig } from '@orchestron/config';
import type { LogLevel } from '@orchestron/observability';
import type { IngestDependencies } from '../src/app';
import { configApplier, ingestSettings, loadSchemas } from '../src/ingest-config';

const repoSchemas = path.resolve(__dirname, '../../../schemas');
const temporary: string[] = [];
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function schemasCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orchestron-schemas-'));
  temporary.push(dir);
  cpSync(repoSchemas, dir, { recursive: true });
  return dir;
}

function configWith(env: Record<string, string>): OrchestronConfig {
  return loadConfig({ env: { ORCHESTRON_SCHEMAS_DIRECTORY: repoSchemas, ...env } });
}

function runningIngest(config: OrchestronConfig) {
  const deps = { schemas: loadSchemas(config), settings: ingestSettings(config) } as unknown as IngestDependencies;
  const levels: LogLevel[] = [];
  const apply = configApplier({
    deps,
    logger: { setLevel: (level) => levels.push(level) },
    server: http.createServer(),
  });
  return { deps, levels, apply };
}

describe('configApplier', () => {
  it('puts routing, rate limits, schemas, webhook sources and the log level into effect', () => {
    const { deps, levels, apply } = runningIngest(configWith({}));
    const schemas = schemasCopy();
    cpSync(path.join(schemas, 'order.created'), path.join(schemas, 'invoice.sent'), { recursive: true });

    apply(
      configWith({
        ORCHESTRON_SCHEMAS_DIRECTORY: schemas,
        ORCHESTRON_API_RATE_LIMIT: '3',
        ORCHESTRON_API_RATE_LIMIT_BURST: '1',
        ORCHESTRON_API_AUTH_FAILURE_LIMIT: '7',
        ORCHESTRON_API_AUTH_FAILURE_WINDOW: '5m',
        ORCHESTRON_LOG_LEVEL: 'debug',
        ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: 'elsewhere',
        ORCHESTRON_SOURCES: JSON.stringify({ shop: { scheme: 'none' } }),
      }),
    );

    expect(deps.schemas.has('invoice.sent')).toBe(true);
    expect(deps.settings).toMatchObject({
      rateLimit: 3,
      rateLimitBurst: 1,
      authFailureLimit: 7,
      authFailureWindowMs: 300_000,
    });
    expect(deps.settings.routing.default_exchange).toBe('elsewhere');
    expect(Object.keys(deps.settings.webhookSources ?? {})).toEqual(['shop']);
    expect(levels).toEqual(['debug']);
  });

  it('puts every setting of the new configuration into effect, accept_unknown_types_from included', () => {
    const { deps, apply } = runningIngest(configWith({}));
    const next = configWith({
      ORCHESTRON_SCHEMAS_ACCEPT_UNKNOWN_TYPES_FROM: 'partner-*',
      ORCHESTRON_SCHEMAS_MAX_CLOCK_SKEW: '1h',
    });

    apply(next);

    expect(deps.settings.acceptUnknownTypesFrom).toEqual(['partner-*']);
    expect(deps.settings).toEqual(ingestSettings(next));
  });

  it('changes nothing when a schema of the new configuration does not compile', () => {
    const { deps, levels, apply } = runningIngest(configWith({}));
    const before = { schemas: deps.schemas, settings: { ...deps.settings } };
    const broken = schemasCopy();
    writeFileSync(path.join(broken, 'order.created', '2.json'), '{"type": "no-such-type"}');

    expect(() =>
      apply(
        configWith({
          ORCHESTRON_SCHEMAS_DIRECTORY: broken,
          ORCHESTRON_API_RATE_LIMIT: '3',
          ORCHESTRON_LOG_LEVEL: 'debug',
        }),
      ),
    ).toThrow(/order\.created.2\.json/);
    expect(deps.schemas).toBe(before.schemas);
    expect(deps.settings).toEqual(before.settings);
    expect(levels).toEqual([]);
  });
});
