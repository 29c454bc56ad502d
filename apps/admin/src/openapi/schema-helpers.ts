/** Small builders for the JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the admin API. */

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
export const dateTime = { type: 'string', format: 'date-time' } as const;
export const text = { type: 'string' } as const;
export const integer = { type: 'integer' } as const;

/** An object whose properties are all required and nothing else is allowed. */
export function strictObject(properties: Record<string, unknown>, optional: readonly string[] = []) {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  };
}

/** A page of a keyset-paginated list. */
export function page(item: string) {
  return strictObject({
    items: { type: 'array', items: ref(item) },
    next_cursor: {
      ...nullable(text),
      description: 'Pass as `cursor` for the next page; null on the last page.',
    },
  });
}

/** A JSON response with this schema. */
export function json(description: string, schema: Record<string, unknown>) {
  return { description, content: { 'application/json': { schema } } };
}

/** The problem responses an operation can give, by status. */
export function problems(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((status) => [String(status), { $ref: `#/components/responses/${status}` }]));
}

/** A query parameter. */
export function query(name: string, description: string, schema: Record<string, unknown> = text) {
  return { name, in: 'query', required: false, description, schema };
}

/** A path parameter. */
export function pathParameter(name: string, description: string, schema: Record<string, unknown> = text) {
  return { name, in: 'path', required: true, description, schema };
}

export const limitParameter = query('limit', 'Most items per page (1 to admin.max_page_size; default 50).', {
  type: 'integer',
  minimum: 1,
});
export const cursorParameter = query('cursor', 'The `next_cursor` of the previous page.');
export const timeBoundDescription =
  'An ISO 8601 time (2026-11-26T10:00:00Z, 2026-11-26) or a duration back from now (24h, 30m, 7d).';
