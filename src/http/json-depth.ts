/**
 * How deep JSON nests, read from its text in one pass without recursion, and JSON.parse bounded
 * by it. V8's JSON.parse takes any depth, but whatever walks the value afterwards (JSON.stringify,
 * our recursive readers) overflows the stack at a few thousand levels, so a 12 KB body would be a
 * 500. Measuring the text first makes such input a 400 before anything walks it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TextDecoder } from 'node:util';
import { InvalidRequestError } from '../errors.ts';

/**
 * The deepest nesting of arrays and objects accepted in a request body and in JSON a client sends
 * inside a string (tool-call arguments). Real requests nest far less: a tool's JSON Schema with
 * nested objects, arrays and combinators is a few tens of levels, and its arguments mirror it.
 * 128 leaves room for the deepest of them and stays far below the ~2000 levels at which a
 * recursive walk overflows the stack.
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = '"'.charCodeAt(0);
const BACKSLASH = '\\'.charCodeAt(0);
const OPEN_ARRAY = '['.charCodeAt(0);
const CLOSE_ARRAY = ']'.charCodeAt(0);
const OPEN_OBJECT = '{'.charCodeAt(0);
const CLOSE_OBJECT = '}'.charCodeAt(0);

/**
 * The deepest nesting of arrays and objects in JSON (0 for a scalar), given as text or as UTF-8
 * bytes (no byte of a multi-byte character is ASCII, so the bytes read as the text does). Brackets
 * inside strings do not count: a string is skipped to its closing quote by indexOf, so a long
 * string (a base64 image) costs a memchr, not a loop. Stops counting once past `stopAbove`. Of
 * text that is not JSON it counts the brackets outside quotes.
 */
export function jsonDepth(json: string | Uint8Array, stopAbove = Infinity): number {
  // One loop over bytes: text is encoded (tool arguments, small) rather than scanned twice over.
  const bytes = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  const length = bytes.length;
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < length; i++) {
    const code = bytes[i];
    if (code === QUOTE) {
      i = closingQuote(bytes, i + 1);
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) {
          return deepest;
        }
      }
    } else if ((code === CLOSE_ARRAY || code === CLOSE_OBJECT) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/** The index of the quote that ends the string opened before `from` (the length if none does). */
function closingQuote(bytes: Uint8Array, from: number): number {
  for (let at = bytes.indexOf(QUOTE, from); at >= 0; at = bytes.indexOf(QUOTE, at + 1)) {
    // A quote after an odd run of backslashes is escaped. Each run is read back only as far as
    // the previous quote, so the whole scan stays linear.
    let slashes = 0;
    while (at - slashes - 1 >= from && bytes[at - slashes - 1] === BACKSLASH) {
      slashes++;
    }
    if (slashes % 2 === 0) {
      return at;
    }
  }
  return bytes.length;
}

/** What a refusal says, after what it names (`messages.0.…arguments: `). */
export const jsonTooDeepMessage = (maxDepth = MAX_JSON_DEPTH): string =>
  `JSON nested more than ${maxDepth} levels deep is not accepted.`;

/** Whether `json` nests deeper than `maxDepth` (its scan stops at the first level too many). */
export function nestsTooDeep(json: string | Uint8Array, maxDepth = MAX_JSON_DEPTH): boolean {
  return jsonDepth(json, maxDepth) > maxDepth;
}

/** Throws InvalidRequestError (400) naming `what` when `json` nests deeper than `maxDepth`. */
export function assertJsonDepth(
  json: string | Uint8Array,
  what: string,
  maxDepth = MAX_JSON_DEPTH,
): void {
  if (nestsTooDeep(json, maxDepth)) {
    throw new InvalidRequestError(`${what}: ${jsonTooDeepMessage(maxDepth)}`, {
      code: 'json_too_deep',
    });
  }
}

/**
 * JSON.parse of text a client sent, refused (InvalidRequestError) when it nests deeper than
 * `maxDepth`, before it is parsed; text that is not JSON throws JSON.parse's SyntaxError.
 */
export function parseJsonWithin(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  assertJsonDepth(text, what, maxDepth);
  return JSON.parse(text) as unknown;
}

/**
 * express.json's `verify`: refuses a body nested deeper than MAX_JSON_DEPTH before it is parsed.
 * UTF-8 (nearly every client; the parser admits only `utf-*` charsets) is read as bytes, the
 * others as the text the parser will decode.
 */
export function refuseDeepJsonBody(
  _req: IncomingMessage,
  _res: ServerResponse,
  body: Buffer,
  encoding: string,
): void {
  assertJsonDepth(encoding === 'utf-8' ? body : decodeBody(body, encoding), 'The request body');
}

function decodeBody(body: Buffer, encoding: string): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    // A charset the parser reads but TextDecoder does not (utf-32): its depth cannot be checked.
    throw new InvalidRequestError(`Unsupported request encoding (${encoding}); send UTF-8.`);
  }
  return decoder.decode(body);
}
