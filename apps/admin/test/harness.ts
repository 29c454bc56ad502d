import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { generateApiKey, insertApiKey, type PayloadCipher } from '@orchestron/db';
import { ApiKeyCache } from '@orchestron/http';
import { createLogger, createRegistry, httpMetrics } from '@orchestron/observability';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { createAdminApp, type AdminSettings } from '../src/app';
import { openApiDocument } from '../src/openapi/document';
import { adminRoutes } from '../src/routes';

export interface AdminResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * An admin app on its own port over a fresh test database. Every answer `call` receives is
 * checked against the OpenAPI document: a status the operation does not declare, or a body
 * that does not fit its schema, fails the test.
 */
export class AdminHarness {
  readonly keys: Record<string, string> = {};
  checkedResponses = 0;
  private validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private document!: Record<string, unknown>;

  private constructor(
    readonly database: TestDatabase,
    readonly apiKeys: ApiKeyCache,
    private readonly server: http.Server,
    readonly url: string,
  ) {}

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
    const fullSettings: AdminSettings = {
      rateLimit: 0,
      rateLimitBurst: 0,
      trustProxy: false,
      keyRotationGraceMs: 60_000,
      maxPageSize: 100,
      replay: { defaultRateLimit: 1_000, maxRateLimit: 5_000 },
      ...settings,
    };
    const app = createAdminApp({
      db: database.db,
      apiKeys,
      logger,
      registry,
      metrics: httpMetrics(registry),
      settings: fullSettings,
      cipher: options.cipher,
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const harness = new AdminHarness(
      database,
      apiKeys,
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    harness.document = openApiDocument(adminRoutes({ db: database.db, apiKeys, settings: fullSettings }));
    addFormats(harness.ajv);
    harness.ajv.addSchema(harness.document, 'openapi.json');
    return harness;
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
    return material.key;
  }

  /**
   * A request as key `as` (a name given to createKey, a raw secret with `secret:`, or none),
   * its answer checked against the document for `operationPath` (the OpenAPI path).
   */
  async call(
    method: 'GET' | 'POST',
    url: string,
    options: { as?: string; body?: unknown; operationPath?: string; headers?: Record<string, string> } = {},
  ): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.as !== undefined) {
      headers.authorization = `Bearer ${options.as.startsWith('secret:') ? options.as.slice(7) : this.keys[options.as]}`;
    }
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.url}${url}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    this.checkAgainstDocument(method, options.operationPath ?? url.split('?')[0]!, response, body);
    return { status: response.status, headers: response.headers, body };
  }

  private checkAgainstDocument(method: string, path: string, response: Response, body: unknown): void {
    const paths = this.document.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const operation = paths[path]?.[method.toLowerCase()];
    if (!operation) {
      // Not a route of the API: the answer must still be a problem.
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      this.validate('#/components/schemas/Problem', body, `${method} ${path} ${response.status}`);
      return;
    }
    const status = String(response.status);
    if (!(status in operation.responses)) {
      throw new Error(`${method} ${path} answered ${status}, which its OpenAPI operation does not declare`);
    }
    const escaped = path.replace(/~/g, '~0').replace(/\//g, '~1');
    const declared = operation.responses[status] as { $ref?: string; content?: Record<string, unknown> };
    const pointer = declared.$ref
      ? `${declared.$ref}/content/application~1problem+json/schema`
      : `#/paths/${escaped}/${method.toLowerCase()}/responses/${status}/content/${
          response.headers.get('content-type')?.startsWith('application/problem+json')
            ? 'application~1problem+json'
            : 'application~1json'
        }/schema`;
    this.validate(pointer, body, `${method} ${path} ${status}`);
  }

  private validate(pointer: string, body: unknown, what: string): void {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (!validate(body)) {
      throw new Error(
        `${what}: the body does not fit the OpenAPI document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
      );
    }
    this.checkedResponses += 1;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    await this.apiKeys.stop();
    await this.database.drop();
  }
}
