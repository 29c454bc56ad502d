import type { AdminRoute } from '../access/route-table';
import { json, problems } from '../openapi/schema-helpers';

/** GET /v1/openapi.json: the document of every route, this one included. Public: it holds no data. */
export function openApiRoute(document: () => Record<string, unknown>): AdminRoute {
  return {
    method: 'get',
    path: '/v1/openapi.json',
    permission: 'public',
    operation: {
      operationId: 'getOpenApiDocument',
      summary: 'This API’s OpenAPI 3.1 document',
      tags: ['meta'],
      responses: {
        '200': json('The OpenAPI document.', { type: 'object' }),
        // A presented key must be valid even here (a wrong one is worth knowing about).
        ...problems(401, 429),
      },
    },
    handle(_req, res) {
      res.json(document());
    },
  };
}
