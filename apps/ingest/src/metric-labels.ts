/** The label value of everything outside the bounded set (docs/operations.md, "Metrics"). */
export const OTHER_LABEL = 'other';

/**
 * The `source` and `type` labels of `orchestron_events_received_total`, each from a bounded
 * set: a source ingest knows (the default source, a configured webhook source) and a type
 * with a schema keep their names; anything a sender made up is counted as `other`. A sender
 * can then not create series at will, and Prometheus' memory stays bounded by configuration.
 */
export function eventLabels(
  event: { source: string; type: string },
  known: { isSource(source: string): boolean; isType(type: string): boolean },
): { source: string; type: string } {
  return {
    source: known.isSource(event.source) ? event.source : OTHER_LABEL,
    type: known.isType(event.type) ? event.type : OTHER_LABEL,
  };
}
