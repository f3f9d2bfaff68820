/**
 * One zod-validation step for every dialect's request body: a body that is not a JSON object,
 * or fails its schema, is a 400 naming the first bad field (never a 500).
 */
import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';
import { jsonTooDeepMessage, nestsTooDeep } from '../http/index.ts';

/**
 * JSON a client sends inside a string (tool-call arguments), which the prompt parses again: the
 * body's nesting limit holds for it too, so it is a 400 naming the field instead of a 500 later.
 */
export const nestedJsonText = z
  .string()
  .refine((text) => !nestsTooDeep(text), jsonTooDeepMessage());

/** The body as an object; anything else (an array, a string, null) is a 400. */
export function requireJsonObject(raw: unknown): object {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  return raw;
}

/** Validates a parsed JSON body against `schema`; throws a 400 naming the first bad field. */
export function parseRequestBody<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(requireJsonObject(raw));
  if (result.success) {
    return result.data;
  }
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join('.') || null;
  throw new InvalidRequestError(
    `${param ? `${param}: ` : ''}${issue?.message ?? 'Invalid request.'}`,
    {
      param,
      code: 'invalid_value',
    },
  );
}
