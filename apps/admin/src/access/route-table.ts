import type { Request, Response } from 'express';
import type { ApiKeyRecord, EventScope } from '@orchestron/db';
import type { Permission } from './roles';

/** An OpenAPI 3.1 operation object (summary, parameters, requestBody, responses, ...). */
export type OpenApiOperation = Record<string, unknown> & { operationId: string; summary: string };

/** What the authorisation step hands each handler. */
export interface RequestContext {
  /** The authenticated key; undefined only on public routes. */
  key: ApiKeyRecord | undefined;
  /** The events the key may see; everything outside it is answered as if it did not exist. */
  scope: EventScope;
  requestId: string;
}

/**
 * One admin API route: its permission, its OpenAPI operation and its handler. Routes exist
 * only as entries of this shape, collected in routes/index.ts: app.ts mounts each one behind
 * the same authentication, rate limit and permission check, and openapi/document.ts
 * documents each one. A route cannot be served without a permission or left undocumented.
 */
export interface AdminRoute {
  method: 'get' | 'post';
  /** The OpenAPI path (`/v1/events/{id}`); the express path is derived from it. */
  path: string;
  /** What a key needs; `public` routes need no key (the OpenAPI document). */
  permission: Permission | 'public';
  /**
   * For state-changing routes: the audit action. A request refused for want of permission
   * is then written to the audit log too; the handler writes the entries of what it does.
   */
  auditAction?: string;
  operation: OpenApiOperation;
  handle(req: Request, res: Response, context: RequestContext): Promise<void> | void;
}

/** `/v1/events/{id}` -> `/v1/events/:id`. */
export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}
