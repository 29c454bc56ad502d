import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../src/openapi/document';
import { adminRoutes } from '../src/routes';

/** The admin API's OpenAPI document, built from the route table as the server builds it. */
export function adminDocument(): Record<string, unknown> {
  return openApiDocument(
    adminRoutes({ db: undefined as never, apiKeys: undefined as never, settings: undefined as never }),
  );
}

/**
 * Checks answers against the OpenAPI document: a status the operation does not declare, or a
 * body that does not fit its schema, throws.
 */
export class OpenApiCheck {
  checked = 0;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });

  constructor(private readonly document: Record<string, unknown> = adminDocument()) {
    addFormats(this.ajv);
    this.ajv.addSchema(document, 'openapi.json');
  }

  /** `path` is the OpenAPI path of the operation (`/v1/events/{id}`). */
  response(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
    const paths = this.document.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const operation = paths[path]?.[method.toLowerCase()];
    if (!operation) {
      // Not a route of the API: the answer must still be a problem.
      if (!contentType?.startsWith('application/problem+json')) {
        throw new Error(`${method} ${path} ${status}: not a problem+json answer`);
      }
      this.validate('#/components/schemas/Problem', body, `${method} ${path} ${status}`);
      return;
    }
    if (!(String(status) in operation.responses)) {
      throw new Error(`${method} ${path} answered ${status}, which its OpenAPI operation does not declare`);
    }
    const escaped = path.replace(/~/g, '~0').replace(/\//g, '~1');
    const declared = operation.responses[String(status)] as { $ref?: string };
    const pointer = declared.$ref
      ? `${declared.$ref}/content/application~1problem+json/schema`
      : `#/paths/${escaped}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
    if (declared.$ref && !contentType?.startsWith('application/problem+json')) {
      throw new Error(`${method} ${path} ${status}: expected application/problem+json, got ${contentType}`);
    }
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
    this.checked += 1;
  }
}

export interface AdminResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * A client of a running admin API whose every answer is checked against the document. `as` is
 * a key's secret; `operationPath` the OpenAPI path when the URL has parameters.
 */
export class AdminClient {
  constructor(
    readonly url: string,
    readonly check: OpenApiCheck = new OpenApiCheck(),
  ) {}

  async call(
    method: 'GET' | 'POST',
    url: string,
    options: {
      key?: string;
      body?: unknown;
      /** Sent as it is instead of `body` (malformed JSON, another media type). */
      raw?: string;
      operationPath?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.url}${url}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    this.check.response(
      method,
      options.operationPath ?? (url.split('?')[0] as string),
      response.status,
      response.headers.get('content-type'),
      body,
    );
    return { status: response.status, headers: response.headers, body };
  }
}
