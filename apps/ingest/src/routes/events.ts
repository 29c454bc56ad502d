import express, { type Router } from 'express';
import { acceptEvents, DEFAULT_SOURCE, type AcceptDependencies } from '../accept-events';
import { readJsonBody, requireJsonContentType } from '../body';
import { readBinaryEvent } from '../cloudevents/binary';
import { contentModeOf, type ContentMode } from '../cloudevents/content-mode';
import { parseBatch, parseStructured } from '../cloudevents/structured';
import { parseEnvelopes } from '../envelope';
import type { IncomingEvent } from '../incoming-event';
import { sendJson } from '../json-response';
import { Problem, apiKeyOf, routeLabel, requestIdOf } from '@orchestron/http';
import { authorizeEvents } from '../auth/authorize';
import { traceContextOf } from '../trace-context';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The Idempotency-Key header; 400 when it is not 1-200 printable ASCII characters. */
function idempotencyKeyOf(req: express.Request): string | null {
  const value = req.get('idempotency-key');
  if (value === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new Problem(
      400,
      'invalid-idempotency-key',
      'Invalid Idempotency-Key',
      'use 1 to 200 printable ASCII characters',
    );
  }
  return value;
}

/** The events of a request, read as its content mode says. */
function eventsOf(
  mode: ContentMode,
  req: express.Request,
  maxBatchSize: number,
): { events: IncomingEvent[]; batch: boolean; body?: string } {
  switch (mode) {
    case 'structured': {
      const body = readJsonBody(req.body);
      return { events: [parseStructured(body.value)], batch: false, body: body.text };
    }
    case 'batch': {
      const body = readJsonBody(req.body);
      return { events: parseBatch(body.value, maxBatchSize), batch: true, body: body.text };
    }
    case 'binary': {
      const { event, text } = readBinaryEvent(req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      return { events: [event], batch: false, ...(text !== undefined ? { body: text } : {}) };
    }
    case 'native': {
      const body = readJsonBody(req.body);
      return { ...parseEnvelopes(body.value, maxBatchSize, idempotencyKeyOf(req)), body: body.text };
    }
  }
}

/**
 * POST /events: one native envelope or a batch of them (application/json), or CloudEvents
 * 1.0 in any HTTP content mode: structured, batch, or binary (`ce-*` headers).
 */
export function eventsRouter(
  deps: AcceptDependencies,
  settings: { maxPayloadBytes: number; maxBatchSize: number },
  guards: express.RequestHandler[],
): Router {
  const router = express.Router();
  router.post(
    '/events',
    routeLabel('/events'),
    ...guards,
    (req, res, next) => {
      const mode = contentModeOf((name) => req.get(name));
      if (mode === 'native') requireJsonContentType(req);
      res.locals.contentMode = mode;
      next();
    },
    express.raw({ type: () => true, limit: settings.maxPayloadBytes }),
    async (req, res) => {
      const { events, batch, body } = eventsOf(res.locals.contentMode as ContentMode, req, settings.maxBatchSize);
      const apiKey = apiKeyOf(res);
      const defaultSource = apiKey?.name ?? DEFAULT_SOURCE;
      authorizeEvents(apiKey, events, defaultSource);
      const result = await acceptEvents(
        deps,
        events,
        { requestId: requestIdOf(res), defaultSource, apiKeyName: apiKey?.name ?? null, ...traceContextOf(req) },
        { batch, body },
      );
      sendJson(res, result.status, result.body);
    },
  );
  return router;
}
