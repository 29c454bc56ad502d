import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { addOrchestronKeywords, type RuleSettings } from './keywords';

/** One schema violation: where (JSON pointer into the validated value) and what. */
export interface Violation {
  pointer: string;
  message: string;
  keyword: string;
}

export type ValidationOutcome =
  | { ok: true; version: number }
  | { ok: false; reason: 'unknown-type'; message: string }
  | { ok: false; reason: 'unknown-version'; message: string }
  | { ok: false; reason: 'invalid'; version: number; violations: Violation[] };

/** Event types Orchestron accepts: letters, digits and . _ - : / (e.g. "order.created"). */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

/**
 * The JSON Schemas of event payloads (`data`), by event type and version, compiled once.
 *
 * Layout of the directory: `<type>/<version>.json`, e.g. `order.created/1.json`. An event
 * without `schema_version` is validated against the highest version of its type. Loading
 * fails, listing every broken file, rather than starting with a partial registry.
 */
export class SchemaRegistry {
  private constructor(private readonly validators: Map<string, Map<number, ValidateFunction>>) {}

  static loadFromDirectory(
    directory: string,
    rules: RuleSettings = { lists: {}, maxClockSkewMs: 5 * 60_000 },
  ): SchemaRegistry {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    addOrchestronKeywords(ajv, rules);
    const validators = new Map<string, Map<number, ValidateFunction>>();
    const problems: string[] = [];
    let entries: string[];
    try {
      entries = readdirSync(directory);
    } catch (error) {
      throw new Error(`cannot read schemas directory ${directory}: ${(error as Error).message}`);
    }
    for (const type of entries.sort()) {
      const typeDir = path.join(directory, type);
      if (!statSync(typeDir).isDirectory()) continue;
      if (!EVENT_TYPE_PATTERN.test(type)) {
        problems.push(`${typeDir}: "${type}" is not a valid event type name`);
        continue;
      }
      for (const file of readdirSync(typeDir).sort()) {
        const match = /^(\d+)\.json$/.exec(file);
        const filePath = path.join(typeDir, file);
        if (!match) {
          problems.push(`${filePath}: schema files are named <version>.json, e.g. 1.json`);
          continue;
        }
        try {
          const schema = JSON.parse(readFileSync(filePath, 'utf8')) as object;
          const versions = validators.get(type) ?? new Map<number, ValidateFunction>();
          versions.set(Number(match[1]), ajv.compile(schema));
          validators.set(type, versions);
        } catch (error) {
          problems.push(`${filePath}: ${(error as Error).message}`);
        }
      }
    }
    if (problems.length > 0) throw new Error(`invalid schemas:\n  - ${problems.join('\n  - ')}`);
    return new SchemaRegistry(validators);
  }

  types(): string[] {
    return [...this.validators.keys()];
  }

  has(type: string): boolean {
    return this.validators.has(type);
  }

  /** Validates `data` of an event of `type` (at `version`, else the latest). */
  validate(type: string, version: number | null, data: unknown): ValidationOutcome {
    const versions = this.validators.get(type);
    if (!versions) return { ok: false, reason: 'unknown-type', message: `no schema for event type "${type}"` };
    const chosen = version ?? Math.max(...versions.keys());
    const validate = versions.get(chosen);
    if (!validate) {
      return {
        ok: false,
        reason: 'unknown-version',
        message: `event type "${type}" has no schema version ${chosen} (known: ${[...versions.keys()].join(', ')})`,
      };
    }
    if (validate(data)) return { ok: true, version: chosen };
    return { ok: false, reason: 'invalid', version: chosen, violations: (validate.errors ?? []).map(toViolation) };
  }
}

function toViolation(error: ErrorObject): Violation {
  // `required` and `additionalProperties` name the offending property in params; point at it.
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const child = params.missingProperty ?? params.additionalProperty;
  const pointer = child === undefined ? error.instancePath : `${error.instancePath}/${escapePointer(child)}`;
  return { pointer, message: error.message ?? 'is invalid', keyword: error.keyword };
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
