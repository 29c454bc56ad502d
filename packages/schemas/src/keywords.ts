import type Ajv from 'ajv';

/** Settings of the custom validation rules that go beyond JSON Schema. */
export interface RuleSettings {
  /** Named value lists a schema can draw from with `allowedValuesFrom`. */
  lists: Readonly<Record<string, readonly string[]>>;
  /** How far in the future a `notInFuture` time may be (clock skew between sender and us). */
  maxClockSkewMs: number;
  /** The clock; tests pass their own. */
  now?: () => number;
}

/**
 * Adds Orchestron's own keywords to an Ajv instance:
 * - `notInFuture: true` on a date-time string: the time may not lie later than now plus the
 *   allowed clock skew (an event cannot have happened in the future).
 * - `allowedValuesFrom: "<list>"`: the value must be one of the configured list
 *   `schemas.lists.<list>` (e.g. currencies or regions kept in config rather than in every
 *   schema). A schema naming a list that is not configured fails to load.
 */
export function addOrchestronKeywords(ajv: Ajv, settings: RuleSettings): void {
  const now = settings.now ?? Date.now;
  ajv.addKeyword({
    keyword: 'notInFuture',
    type: 'string',
    schemaType: 'boolean',
    errors: true,
    validate: function notInFuture(enabled: boolean, value: string) {
      if (!enabled) return true;
      const time = Date.parse(value);
      // An unparseable time is the `format` keyword's to report.
      if (Number.isNaN(time) || time <= now() + settings.maxClockSkewMs) return true;
      (notInFuture as unknown as { errors: unknown[] }).errors = [
        { keyword: 'notInFuture', message: 'must not be in the future', params: {} },
      ];
      return false;
    },
  });
  ajv.addKeyword({
    keyword: 'allowedValuesFrom',
    schemaType: 'string',
    errors: true,
    compile: (listName: string) => {
      const list = settings.lists[listName];
      if (!list) throw new Error(`allowedValuesFrom names the list "${listName}", which schemas.lists does not define`);
      const allowed = new Set(list);
      const validate = (value: unknown): boolean => {
        if (typeof value === 'string' && allowed.has(value)) return true;
        (validate as unknown as { errors: unknown[] }).errors = [
          {
            keyword: 'allowedValuesFrom',
            message: `must be one of the list "${listName}"`,
            params: { list: listName },
          },
        ];
        return false;
      };
      return validate;
    },
  });
}
