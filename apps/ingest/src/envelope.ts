import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_TYPE_PATTERN } from '@orchestron/schemas';
import type { IncomingEvent } from './incoming-event';
import { Problem, type ProblemError } from '@orchestron/http';

/**
 * An `Idempotency-Key` header keys the events that carry no `id` of their own: a single
 * event by the header itself, the events of a batch by `<header>/<index>`.
 */
function keyFromHeader(header: string | null, batch: boolean, index: number): string | null {
  if (header === null) return null;
  return batch ? `${header}/${index}` : header;
}

/** The native envelope: {type, data, id?, source?, time?, schema_version?, partition_key?}. */
const envelopeSchema = {
  type: 'object',
  required: ['type', 'data'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', pattern: EVENT_TYPE_PATTERN.source },
    data: {},
    id: { type: 'string', minLength: 1, maxLength: 200 },
    source: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$' },
    time: { type: 'string', format: 'date-time' },
    schema_version: { type: 'integer', minimum: 1 },
    partition_key: { type: 'string', minLength: 1, maxLength: 256 },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateEnvelope = ajv.compile(envelopeSchema);

/**
 * Checks a parsed body: one envelope, or a non-empty array of them of at most `maxBatch`.
 * Throws a 400 Problem listing every envelope error with its JSON pointer.
 */
export function parseEnvelopes(
  body: unknown,
  maxBatch: number,
  idempotencyKeyHeader: string | null = null,
): { events: IncomingEvent[]; batch: boolean } {
  const batch = Array.isArray(body);
  const items: unknown[] = batch ? body : [body];
  if (batch && items.length === 0) {
    throw new Problem(400, 'empty-batch', 'Empty batch', 'a batch must hold at least one event');
  }
  if (items.length > maxBatch) {
    throw new Problem(413, 'batch-too-large', 'Batch too large', `a batch may hold at most ${maxBatch} events`);
  }
  const errors: ProblemError[] = [];
  items.forEach((item, index) => {
    if (!validateEnvelope(item)) {
      const prefix = batch ? `/${index}` : '';
      for (const e of validateEnvelope.errors ?? []) {
        const params = e.params as { missingProperty?: string; additionalProperty?: string };
        const child = params.missingProperty ?? params.additionalProperty;
        errors.push({
          pointer: `${prefix}${e.instancePath}${child === undefined ? '' : `/${child}`}`,
          message: e.message ?? 'is invalid',
        });
      }
    }
  });
  if (errors.length > 0) {
    throw new Problem(400, 'invalid-envelope', 'Invalid event envelope', 'the request is not a valid event', errors);
  }
  return {
    batch,
    events: items.map((item, index) => {
      const e = item as Record<string, unknown>;
      const pointer = batch ? `/${index}` : '';
      return {
        type: e.type as string,
        data: e.data,
        idempotencyKey: (e.id as string | undefined) ?? keyFromHeader(idempotencyKeyHeader, batch, index),
        source: (e.source as string | undefined) ?? null,
        time: (e.time as string | undefined) ?? null,
        schemaVersion: (e.schema_version as number | undefined) ?? null,
        partitionKey: (e.partition_key as string | undefined) ?? null,
        dataContentType: 'application/json',
        attributes: {},
        pointer,
        dataPointer: `${pointer}/data`,
        dataPath: batch ? [String(index), 'data'] : ['data'],
      };
    }),
  };
}
