import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateApiKey, insertApiKey, type PayloadCipher } from '@orchestron/db';
import { ApiKeyCache } from '@orchestron/http';
import { createLogger, createRegistry, httpMetrics } from '@orchestron/observability';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { createAdminApp, type AdminSettings } from '../src/app';
import { AdminClient, type AdminResponse } from './openapi-check';

/**
 * An admin app on its own port over a fresh test database; `call` checks every answer
 * against the OpenAPI document (OpenApiCheck).
 */
export class AdminHarness {
  readonly keys: Record<string, string> = {};
  readonly client: AdminClient;

  private constructor(
    readonly database: TestDatabase,
    readonly apiKeys: ApiKeyCache,
    private readonly server: http.Server,
    readonly url: string,
  ) {
    this.client = new AdminClient(url);
  }

  static async start(
    name: string,
    settings: Partial<AdminSettings> = {},
    options: { cipher?: PayloadCipher } = {},
  ): Promise<AdminHarness> {
    const database = await createTestDatabase(name);
    const logger = createLogger({ service: 'admin', silent: true });
    const apiKeys = new ApiKeyCache(database.db, logger, { refreshMs: 60_000, flushMs: 60_000 });
    await apiKeys.start();
    const registry = createRegistry('admin');
    const app = createAdminApp({
      db: database.db,
      apiKeys,
      logger,
      registry,
      metrics: httpMetrics(registry),
      settings: {
        rateLimit: 0,
        rateLimitBurst: 0,
        trustProxy: false,
        keyRotationGraceMs: 60_000,
        maxPageSize: 100,
        replay: { defaultRateLimit: 1_000, maxRateLimit: 5_000 },
        ...settings,
      },
      cipher: options.cipher,
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new AdminHarness(database, apiKeys, server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  get db() {
    return this.database.db;
  }

  /** Creates a key and remembers its secret under its name. */
  async createKey(
    name: string,
    scopes: { roles?: string[]; sources?: string[]; types?: string[] } = {},
  ): Promise<string> {
    const material = generateApiKey();
    await insertApiKey(this.db, {
      name,
      keyHash: material.hash,
      keyPrefix: material.prefix,
      roles: scopes.roles ?? ['viewer'],
      allowedSources: scopes.sources ?? ['*'],
      allowedTypes: scopes.types ?? ['*'],
    });
    this.keys[name] = material.key;
    // Known at once, rather than after the cache's next refresh.
    await this.apiKeys.refresh();
    return material.key;
  }

  /** A request as key `as` (a name given to createKey, a raw secret with `secret:`, or none). */
  call(
    method: 'GET' | 'POST',
    url: string,
    options: {
      as?: string;
      body?: unknown;
      raw?: string;
      operationPath?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<AdminResponse> {
    const { as, ...rest } = options;
    const key = as === undefined ? undefined : as.startsWith('secret:') ? as.slice(7) : this.keys[as];
    return this.client.call(method, url, { ...rest, key });
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    await this.apiKeys.stop();
    await this.database.drop();
  }
}
