/**
 * A call block's body -> the calls it asks for. The body is normally one JSON object with
 * "name" and "arguments"; an array of such objects, "parameters"/"args"/"input" in place of
 * "arguments", and arguments sent as a JSON string (OpenAI's wire form) are accepted too.
 */
import { decodeEntities, unescapeMarkdown } from './markdown.ts';
import { parseLenientJson } from './lenient-json.ts';

/** One call as the model wrote it, before the schema check. */
export type RawCall =
  | { readonly ok: true; readonly name: string; readonly args: unknown }
  | { readonly ok: false; readonly name: string | null; readonly error: string };

const ARGUMENT_KEYS = ['arguments', 'parameters', 'args', 'input'] as const;
const NAME_IN_BROKEN_JSON = /"name"\s*:\s*"([^"\\]{1,128})"/;

/** Decodes a block body into its calls (a broken body is one failed call). */
export function decodeCallBody(body: string): RawCall[] {
  if (body.trim() === '') {
    return [{ ok: false, name: null, error: 'The tool-call block is empty.' }];
  }
  const parsed = parseLenientJson(body);
  if (!parsed.ok) {
    const name = NAME_IN_BROKEN_JSON.exec(unescapeMarkdown(decodeEntities(body)))?.[1] ?? null;
    return [{ ok: false, name, error: `The tool-call block is not valid JSON: ${parsed.error}` }];
  }
  const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  return items.map(toRawCall);
}

function toRawCall(item: unknown): RawCall {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return {
      ok: false,
      name: null,
      error: 'A tool call must be a JSON object with "name" and "arguments".',
    };
  }
  const record = item as Record<string, unknown>;
  const name = record['name'];
  if (typeof name !== 'string' || name.trim() === '') {
    return { ok: false, name: null, error: 'The tool call has no "name".' };
  }
  const key = ARGUMENT_KEYS.find((k) => record[k] !== undefined);
  const value = key === undefined ? {} : record[key];
  const args = typeof value === 'string' && value.trim() === '' ? {} : value;
  if (typeof args !== 'string') {
    return { ok: true, name: name.trim(), args: args ?? {} };
  }
  const inner = parseLenientJson(args);
  return inner.ok
    ? { ok: true, name: name.trim(), args: inner.value }
    : { ok: false, name: name.trim(), error: `"arguments" is not valid JSON: ${inner.error}` };
}
