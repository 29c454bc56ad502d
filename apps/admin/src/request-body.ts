import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Problem } from '@orchestron/http';

const DOCUMENT_ID = 'https://orchestron.dev/admin/openapi.json';

/**
 * Validators of request bodies against the schemas in the OpenAPI document, so what the
 * document promises and what the server accepts cannot drift apart.
 */
export class RequestBodies {
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: Record<string, unknown>) {
    // The document is not itself a schema: its OpenAPI keywords are not JSON Schema ones.
    this.ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(this.ajv);
    this.ajv.addSchema(document, DOCUMENT_ID);
  }

  /** Throws a 400 listing every violation (with its JSON pointer) unless `body` fits the schema at `pointer`. */
  check(pointer: string, body: unknown): void {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(body)) return;
    throw new Problem(
      400,
      'invalid-body',
      'Invalid request body',
      'the request body does not match the schema of this operation',
      (validate.errors ?? []).map(toError),
    );
  }
}

function toError(error: ErrorObject): { pointer: string; message: string } {
  const extra =
    error.keyword === 'additionalProperties'
      ? `: ${(error.params as { additionalProperty: string }).additionalProperty}`
      : error.keyword === 'enum'
        ? `: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
        : '';
  return { pointer: error.instancePath || '/', message: `${error.message ?? 'is not valid'}${extra}` };
}

/** The JSON pointer of an operation's JSON request body schema in the document. */
export function requestBodyPointer(path: string, method: string): string {
  const escaped = path.replace(/~/g, '~0').replace(/\//g, '~1');
  return `/paths/${escaped}/${method}/requestBody/content/application~1json/schema`;
}
