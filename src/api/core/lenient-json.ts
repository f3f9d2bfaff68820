/**
 * JSON as models write it: tried as it is first, then with Gemini's Markdown escapes and HTML
 * entities removed (a fence that arrived escaped was rendered as prose: either only brackets,
 * underscores and the like were escaped, or every punctuation mark was), then with the slips
 * models make repaired: trailing commas, raw line breaks and tabs inside strings. A stricter
 * reading always wins over a more lenient one.
 */
import { jsonTooDeepMessage, nestsTooDeep } from '../../http/index.ts';
import { decodeEntities, unescapeMarkdown, unescapeMarkdownInJson } from './markdown.ts';

/** The value, or the error of the strict reading. */
export type LenientResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** Parses `text` as JSON, as leniently as needed. */
export function parseLenientJson(text: string): LenientResult {
  const plain = text.replace(/\r\n?/g, '\n').normalize('NFC').trim();
  // A client can steer what the model writes: JSON too deep for what walks it later (the schema
  // check, JSON.stringify) is a failed reading, which the caller re-asks for, never a crash.
  if (nestsTooDeep(plain)) {
    return { ok: false, error: jsonTooDeepMessage() };
  }
  const decoded = (): string => decodeEntities(plain);
  // Some escapes (brackets, underscores) keep JSON's own; escaping everything doubles them.
  const partly = (): string => unescapeMarkdownInJson(decoded());
  const fully = (): string => unescapeMarkdown(decoded());
  const candidates = [
    () => plain,
    partly,
    fully,
    () => repairJson(plain),
    () => repairJson(partly()),
    () => repairJson(fully()),
  ];
  let firstError: string | null = null;
  for (const candidate of candidates) {
    try {
      return { ok: true, value: JSON.parse(candidate()) as unknown };
    } catch (err) {
      firstError ??= err instanceof Error ? err.message : String(err);
    }
  }
  return { ok: false, error: firstError ?? 'not JSON' };
}

/**
 * Fixes what JSON.parse rejects but a reader would accept: trailing commas before `}`/`]` and
 * raw control characters inside strings.
 */
export function repairJson(source: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < source.length; i += 1) {
    const ch = source[i] ?? '';
    if (inString) {
      if (ch === '\\') {
        out += ch + (source[i + 1] ?? '');
        i += 1;
      } else if (ch === '"') {
        inString = false;
        out += ch;
      } else {
        out += CONTROL_ESCAPES[ch] ?? ch;
      }
      continue;
    }
    if (ch === '"') {
      inString = true;
    } else if (ch === ',') {
      CLOSER_AHEAD.lastIndex = i + 1;
      if (CLOSER_AHEAD.test(source)) {
        continue;
      }
    }
    out += ch;
  }
  return out;
}

const CLOSER_AHEAD = /\s*[}\]]/y;
const CONTROL_ESCAPES: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};
