/**
 * Structured output (OpenAI response_format json_object / json_schema, Google
 * responseMimeType application/json with responseSchema): a prompt instruction, and a reader
 * that takes the JSON out of the answer (fenced or not, escaped or not), validates it against
 * the schema with coercion, and says ok or repair-needed with the errors.
 */
import { fenced } from './markdown.ts';
import { parseLenientJson } from './lenient-json.ts';
import { compileSchema } from './schema.ts';
import type { ResponseFormat } from './types.ts';

/** First line of the output-format block. */
export const FORMAT_BEGIN = '=== OUTPUT FORMAT ===';
/** Last line of the output-format block. */
export const FORMAT_END = '=== END OF OUTPUT FORMAT ===';

/** The JSON an answer held, re-serialized, or why it could not be used. */
export type StructuredResult =
  | { readonly ok: true; readonly value: unknown; readonly json: string }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * The prompt instruction for a format; '' for plain text. `withTools`: tools are offered too,
 * so the JSON rule binds the final answer, not a turn that calls tools.
 */
export function renderFormatPrompt(format: ResponseFormat, withTools = false): string {
  if (format.type === 'text') {
    return '';
  }
  const lines = [
    FORMAT_BEGIN,
    'Answer with one JSON object only, in a ```json fenced block, and nothing else.',
  ];
  if (withTools) {
    lines.push('When you call tools instead, this applies to your answer after their results.');
  }
  if (format.type === 'json_schema') {
    const about = format.description ? ` (${format.description})` : '';
    lines.push(
      `The object is "${format.name}"${about}. It must match this JSON schema:`,
      fenced(JSON.stringify(format.schema), 'json'),
    );
  }
  lines.push(FORMAT_END);
  return lines.join('\n');
}

/** Checks a json_schema format's schema at request time, so a bad one is a 400 before any send. */
export function validateResponseFormat(format: ResponseFormat): void {
  if (format.type === 'json_schema') {
    compileSchema(format.schema, 'response_format.json_schema.schema');
  }
}

/** Reads the JSON out of an answer and checks it against the format. */
export function parseStructured(text: string, format: ResponseFormat): StructuredResult {
  const parsed = parseLenientJson(extractJson(text));
  if (!parsed.ok) {
    return { ok: false, errors: [`The answer is not valid JSON: ${parsed.error}`] };
  }
  if (format.type === 'json_schema') {
    const check = compileSchema(format.schema, 'response_format.json_schema.schema')(parsed.value);
    return check.ok
      ? { ok: true, value: check.value, json: JSON.stringify(check.value) }
      : { ok: false, errors: check.errors };
  }
  if (format.type === 'json_object' && !isPlainObject(parsed.value)) {
    return { ok: false, errors: ['The answer must be a JSON object.'] };
  }
  return { ok: true, value: parsed.value, json: JSON.stringify(parsed.value) };
}

/** The follow-up prompt when the JSON did not pass. */
export function structuredRepairPrompt(errors: readonly string[], format: ResponseFormat): string {
  return [
    'Your previous answer could not be used as the requested JSON:',
    ...errors.map((e) => `- ${e}`),
    '',
    'Answer again, corrected.',
    '',
    renderFormatPrompt(format),
  ].join('\n');
}

/**
 * The JSON text of an answer: the body of its first fenced block when it has one (escaped
 * fences included), else the span from the first `{` or `[` to the last `}` or `]`.
 */
export function extractJson(text: string): string {
  const normalized = text.replace(/\r\n?/g, '\n');
  const fence =
    /^ {0,3}((?:\\?`){3,}|~{3,})[^\n`]*\n([\s\S]*?)\n {0,3}\1[`\\]*[ \t]*(?:\n|$)/m.exec(
      normalized,
    );
  if (fence?.[2] !== undefined) {
    return fence[2];
  }
  const start = normalized.search(/[{[]/);
  const end = Math.max(normalized.lastIndexOf('}'), normalized.lastIndexOf(']'));
  return start >= 0 && end > start ? normalized.slice(start, end + 1) : normalized.trim();
}

function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
