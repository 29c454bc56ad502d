import type { Request } from 'express';
import { randomBytesPooled } from '@orchestron/db';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * The W3C trace context of a request: the caller's `traceparent` when it is well formed
 * (version 00, non-zero ids), else a new one, so every stored and published event can be
 * joined to a trace. `tracestate` is kept only alongside a valid caller traceparent.
 */
export function traceContextOf(req: Request): { traceparent: string; tracestate?: string } {
  const given = req.get('traceparent')?.trim().toLowerCase();
  const match = given ? TRACEPARENT.exec(given) : null;
  if (match && !/^0+$/.test(match[1] as string) && !/^0+$/.test(match[2] as string)) {
    const state = req.get('tracestate');
    return { traceparent: given as string, ...(state && TRACESTATE.test(state) ? { tracestate: state } : {}) };
  }
  const ids = randomBytesPooled(24).toString('hex');
  return { traceparent: `00-${ids.slice(0, 32)}-${ids.slice(32)}-01` };
}
