import type { Knex } from 'knex';
import type { PayloadCipher } from '@orchestron/db';
import type { ApiKeyCache } from '@orchestron/http';
import type { AdminRoute } from '../access/route-table';
import type { AdminSettings } from '../app';
import { openApiDocument } from '../openapi/document';
import { auditRoutes } from './audit';
import { backlogRoutes } from './backlog';
import { deadLetterRoutes } from './dead-letters';
import { eventRoutes } from './events';
import { keyRoutes } from './keys';
import { openApiRoute } from './openapi';
import { replayRoutes } from './replays';

/** What route modules may use. */
export interface RouteDependencies {
  db: Knex;
  apiKeys: ApiKeyCache;
  settings: AdminSettings;
  cipher?: PayloadCipher;
  /** Runs replays in this process; woken when one is started here, so it begins at once. */
  replayRunner?: { wake(): void };
}

/**
 * Every route of the admin API: the route table. A new resource is one module exporting a
 * function `(deps) => AdminRoute[]`, added to this list; app.ts authorises and mounts each
 * route, openapi/document.ts documents it.
 */
export function adminRoutes(deps: RouteDependencies): AdminRoute[] {
  const routes: AdminRoute[] = [
    ...eventRoutes(deps),
    ...backlogRoutes(deps),
    ...deadLetterRoutes(deps),
    ...keyRoutes(deps),
    ...auditRoutes(deps),
    ...replayRoutes(deps),
  ];
  let document: Record<string, unknown> | undefined;
  routes.push(openApiRoute(() => (document ??= openApiDocument(routes))));
  return routes;
}
