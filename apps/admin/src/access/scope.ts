import type { ApiKeyRecord, EventScope } from '@orchestron/db';

const EVERYTHING: EventScope = { sources: ['*'], types: ['*'] };

/**
 * The events a key may read and act on: its allowed sources and types, the same lists that
 * bound what it may write. Public routes (no key) get everything, but none of them read events.
 */
export function scopeOf(key: ApiKeyRecord | undefined): EventScope {
  return key ? { sources: key.allowedSources, types: key.allowedTypes } : EVERYTHING;
}
