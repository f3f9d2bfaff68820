/**
 * JSON-schema checks for tool arguments and structured output (ajv). Values are coerced toward
 * the schema first ("3" -> 3 where a number is wanted, a lone value -> [value] where an array
 * is), so a model that quoted a number is not sent back for it; values already of the right
 * type keep it. Client schemas are compiled without ajv's strict mode, as OpenAI accepts them.
 * Agents send the same tools with every request, so compiled schemas are kept in a small LRU
 * keyed by their JSON text.
 *
 * A schema's `pattern` runs on the worker's event loop against text the model wrote, which a
 * client can steer. V8's backtracking engine takes exponential time on patterns like
 * `^(a+)+(?=b)`: 27 characters held one worker (its /health and heartbeat too) for 5 s. So
 * patterns run on RE2 (re2js), which matches in linear time. A pattern RE2 cannot run (a
 * lookaround, a backreference) is left unchecked rather than refused: agents' tool schemas carry
 * such patterns (zod's e-mail pattern has lookaheads), and the tool itself still sees the value.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';
import { InvalidRequestError } from '../../errors.ts';

/** A value that passed the schema (coerced), or the reasons it did not. */
export type SchemaCheck =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Checks (and coerces a copy of) a value. */
export type SchemaChecker = (value: unknown) => SchemaCheck;

const CACHE_SIZE = 256;
const compiled = new Map<string, ValidateFunction>();

/** What ajv needs of a compiled pattern; ajv tells patterns apart by their toString(). */
interface PatternTest {
  test(text: string): boolean;
  toString(): string;
}

/**
 * ajv's regExp engine: the pattern on RE2, or no check when RE2 cannot run it. A pattern that is
 * not a valid ECMAScript regexp at all still throws, so its schema is a 400 as before.
 */
export function linearPattern(pattern: string, flags: string): PatternTest {
  new RegExp(pattern, flags); // compiling never backtracks: only the syntax is checked here
  const toString = (): string => `/${pattern}/${flags}`;
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch {
    return { test: () => true, toString };
  }
  return { test: (text) => re.test(text), toString };
}
// ajv reads `code` only when it generates standalone code, which this module never asks for.
linearPattern.code = 'linearPattern';

const ajv = new Ajv({
  coerceTypes: 'array',
  allErrors: true,
  strict: false,
  validateFormats: false,
  code: { regExp: linearPattern },
});

type Schema = Readonly<Record<string, unknown>>;

/**
 * Compiles a client's schema now. A schema ajv cannot compile is the client's mistake: a 400 that
 * names `param`.
 */
export function compileSchema(schema: Schema, param: string): SchemaChecker {
  const validate = compileCached(withoutDialect(schema), param);
  return (value) => {
    const copy = structuredClone(value);
    return validate(copy)
      ? { ok: true, value: copy }
      : { ok: false, errors: describe(validate.errors) };
  };
}

/**
 * A tool's schema: checked against JSON Schema's meta-schema now (a 400 when it is no schema),
 * compiled when the model first calls the tool. ajv's compile costs about 9 ms a schema, its
 * meta-schema check 0.2 ms; an agent declares dozens of tools and calls one or two, and one
 * request with 140 fresh schemas held the worker's event loop for 1.3-2 s. A schema that passes
 * the check and still does not compile (a $ref to nowhere) leaves the tool's arguments unchecked.
 */
export function compileOnUse(schema: Schema, param: string): SchemaChecker {
  const bare = withoutDialect(schema);
  let valid: boolean;
  try {
    valid = ajv.validateSchema(bare) as boolean;
  } catch (err) {
    throw invalidSchema(param, err);
  }
  if (!valid) {
    throw invalidSchema(param, ajv.errorsText(ajv.errors, { dataVar: 'schema' }));
  }
  let checker: SchemaChecker | null = null;
  return (value) => {
    checker ??= compiledOrUnchecked(bare, param);
    return checker(value);
  };
}

function compiledOrUnchecked(schema: Schema, param: string): SchemaChecker {
  try {
    return compileSchema(schema, param);
  } catch {
    return (value) => ({ ok: true, value });
  }
}

/**
 * The schema without its root `$schema` and `$async`. Clients name the draft they wrote in (zod 4
 * writes 2020-12, which ajv's default draft-07 instance does not hold and refuses), and ajv makes
 * an `$async` schema's check a promise, which would always look valid.
 */
function withoutDialect(schema: Schema): Schema {
  if (!('$schema' in schema) && !('$async' in schema)) {
    return schema;
  }
  const bare: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key !== '$schema' && key !== '$async') {
      bare[key] = value;
    }
  }
  return bare;
}

function invalidSchema(param: string, reason: unknown): InvalidRequestError {
  const why = reason instanceof Error ? reason.message : String(reason);
  return new InvalidRequestError(`${param}: invalid JSON schema: ${why}`, { param, cause: reason });
}

function compileCached(schema: Schema, param: string): ValidateFunction {
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
    throw invalidSchema(param, err);
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

function forget(schema: Schema): void {
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
