/**
 * JSON-schema checks for tool arguments and structured output (ajv). Values are coerced toward
 * the schema first ("3" -> 3 where a number is wanted, a lone value -> [value] where an array
 * is), so a model that quoted a number is not sent back for it; values already of the right
 * type keep it. Client schemas are compiled without ajv's strict mode, as OpenAI accepts them.
 * Agents send the same tools with every request, so compiled schemas are kept in a small LRU
 * keyed by their JSON text.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { InvalidRequestError } from '../../errors.ts';

/** A value that passed the schema (coerced), or the reasons it did not. */
export type SchemaCheck =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Checks (and coerces a copy of) a value. */
export type SchemaChecker = (value: unknown) => SchemaCheck;

const CACHE_SIZE = 256;
const compiled = new Map<string, ValidateFunction>();
const ajv = new Ajv({
  coerceTypes: 'array',
  allErrors: true,
  strict: false,
  validateFormats: false,
});

/**
 * Compiles a client's schema. A schema ajv cannot compile is the client's mistake: a 400 that
 * names `param`.
 */
export function compileSchema(
  schema: Readonly<Record<string, unknown>>,
  param: string,
): SchemaChecker {
  const validate = compileCached(schema, param);
  return (value) => {
    const copy = structuredClone(value);
    return validate(copy)
      ? { ok: true, value: copy }
      : { ok: false, errors: describe(validate.errors) };
  };
}

function compileCached(schema: Readonly<Record<string, unknown>>, param: string): ValidateFunction {
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached) {
    compiled.delete(key);
    compiled.set(key, cached);
    return cached;
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new InvalidRequestError(
      `${param}: invalid JSON schema: ${err instanceof Error ? err.message : String(err)}`,
      { param, cause: err },
    );
  } finally {
    // ajv would keep every per-request schema object (and clash on a reused $id): ours is the cache.
    forget(schema);
  }
  compiled.set(key, validate);
  if (compiled.size > CACHE_SIZE) {
    compiled.delete(compiled.keys().next().value ?? '');
  }
  return validate;
}

function forget(schema: Readonly<Record<string, unknown>>): void {
  try {
    ajv.removeSchema(schema);
  } catch {
    // Nothing was registered (the compile failed before it).
  }
}

function describe(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map(
    (e) => `${e.instancePath === '' ? '(root)' : e.instancePath} ${e.message ?? 'is invalid'}`,
  );
}
