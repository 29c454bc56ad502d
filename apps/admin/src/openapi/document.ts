import type { AdminRoute } from '../access/route-table';
import { components } from './components';

/** What each tag groups; a route's tag without a description here fails the OpenAPI lint. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  events: 'Stored events and what happened to each delivery.',
  backlog: 'What waits in the outbox, per destination.',
  'dead-letters': 'Deliveries that kept failing: inspect, replay, discard.',
  replays: 'Re-publishing stored events as durable background jobs.',
  keys: 'API keys: roles, scopes, rotation.',
  audit: 'Who changed what.',
  meta: 'About this API.',
};

/** The admin API's version, as in its OpenAPI document. */
export const ADMIN_API_VERSION = '1.0.0';

/**
 * The OpenAPI 3.1 document of every route: each route's own operation, under its path and
 * method, with the security its permission implies, and the shared components.
 */
export function openApiDocument(routes: readonly AdminRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation = {
      ...route.operation,
      ...(route.permission === 'public'
        ? { security: [] }
        : { 'x-permission': route.permission, security: [{ bearer: [] }, { apiKeyHeader: [] }] }),
    };
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orchestron admin API',
      version: ADMIN_API_VERSION,
      description:
        'Events, deliveries, backlog, dead letters, API keys and the audit log of an Orchestron event hub. ' +
        'Every route needs an API key whose roles grant its permission (`x-permission`; docs/admin.md); ' +
        'a key limited to sources or event types sees nothing outside them (404).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This admin server (admin.address).' }],
    tags: [...new Set(routes.flatMap((r) => (r.operation.tags as string[] | undefined) ?? []))].map((name) => ({
      name,
      ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}),
    })),
    paths,
    components,
  };
}
