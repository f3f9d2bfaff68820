/**
 * The JSON nesting scanner and what is built on it: brackets in strings and escaped quotes read as
 * JSON.parse reads them, the limit itself passes and one level more is a 400, text and UTF-8 bytes
 * agree, and a large flat body or a pathological string stays a linear scan.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src/errors.ts';
import {
  MAX_JSON_DEPTH,
  assertJsonDepth,
  jsonDepth,
  parseJsonWithin,
  refuseDeepJsonBody,
} from '../../../src/http/index.ts';
import { nestedObjects as objects } from '../support/deep-json.ts';

const arrays = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
/** refuseDeepJsonBody as body-parser calls it; its request and response are unused. */
const verify = (body: Buffer, encoding = 'utf-8') =>
  refuseDeepJsonBody(undefined as never, undefined as never, body, encoding);

describe('jsonDepth', () => {
  it('counts nested arrays and objects, and nothing for scalars', () => {
    expect(['1', '"x"', 'null', ' true '].map((t) => jsonDepth(t))).toEqual([0, 0, 0, 0]);
    expect(jsonDepth('[]')).toBe(1);
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[1,{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth('[[1],[[2]],[3]]')).toBe(3);
    expect(jsonDepth(objects(300))).toBe(300);
    expect(jsonDepth(arrays(300))).toBe(300);
  });

  it('does not count brackets inside strings, keys included', () => {
    expect(jsonDepth('["[[[[{{{{"]')).toBe(1);
    expect(jsonDepth('{"k]}[{":"}}]]{{[["}')).toBe(1);
    expect(jsonDepth(JSON.stringify({ a: '['.repeat(500) }))).toBe(1);
  });

  it('reads escaped quotes as JSON does: an odd run of backslashes escapes, an even one does not', () => {
    // The string is a"[[[[ , then "]" : one level.
    const escaped = '["a\\"[[[[","]"]';
    expect(JSON.parse(escaped)).toEqual(['a"[[[[', ']']);
    expect(jsonDepth(escaped)).toBe(1);
    // The string is a\ (an escaped backslash), so the quote ends it and [[1]] is structure.
    const evenRun = '["a\\\\",[[1]]]';
    expect(JSON.parse(evenRun)).toEqual(['a\\', [[1]]]);
    expect(jsonDepth(evenRun)).toBe(3);
    const value = ['\\"[', '\\\\', '"\\\\"', { k: '\\\\\\"]]' }];
    expect(jsonDepth(JSON.stringify(value))).toBe(2);
  });

  it('reads UTF-8 bytes as it reads the text', () => {
    const text = JSON.stringify({ 'é[': ['ü]"', { '😀': ['{["'] }], z: '中{' });
    expect(jsonDepth(text)).toBe(4);
    expect(jsonDepth(Buffer.from(text, 'utf8'))).toBe(4);
  });

  it('stops counting once past `stopAbove`, and reads no further', () => {
    expect(jsonDepth(arrays(100_000), MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
    // A scan that read on would meet the unbalanced tail; one that stopped returns the same.
    expect(jsonDepth(`${arrays(200)}${'['.repeat(10_000)}`, 150)).toBe(151);
  });

  it('counts what text that is not JSON holds outside quotes, without throwing', () => {
    expect(jsonDepth('["abc')).toBe(1);
    expect(jsonDepth('"unterminated [[[')).toBe(0);
    expect(jsonDepth(']]][[')).toBe(2);
  });

  it('stays linear on a large flat body and on pathological strings', () => {
    const flat = Buffer.from(`[${'1,'.repeat(3_000_000)}1]`);
    const escapes = Buffer.from(
      JSON.stringify(['\\'.repeat(2_000_000) + '"'.repeat(1_000_000), 'x'.repeat(8_000_000)]),
    );
    const started = performance.now();
    expect(jsonDepth(flat)).toBe(1);
    expect(jsonDepth(escapes)).toBe(1);
    // About 50 ms on a laptop; a scan that read each backslash run again per quote would take
    // minutes, and one that looped over a long string byte by byte several times longer.
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('the limit', () => {
  it('accepts exactly MAX_JSON_DEPTH levels and refuses one more, for arrays and objects', () => {
    expect(MAX_JSON_DEPTH).toBe(128);
    for (const nest of [objects, arrays]) {
      expect(() => assertJsonDepth(nest(MAX_JSON_DEPTH), 'The body')).not.toThrow();
      expect(() => assertJsonDepth(nest(MAX_JSON_DEPTH + 1), 'The body')).toThrow(
        InvalidRequestError,
      );
    }
  });

  it('says which field and which limit, as a 400 json_too_deep', () => {
    let caught: unknown;
    try {
      assertJsonDepth(arrays(5000), 'The request body');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidRequestError);
    expect(caught).toMatchObject({
      status: 400,
      code: 'json_too_deep',
      message: 'The request body: JSON nested more than 128 levels deep is not accepted.',
    });
    expect(() => assertJsonDepth(arrays(11), 'x', 10)).toThrow(/more than 10 levels/);
  });

  it('parseJsonWithin parses what is within, refuses what is not, and throws SyntaxError for non-JSON', () => {
    expect(parseJsonWithin('{"a":[1,2]}', 'arguments')).toEqual({ a: [1, 2] });
    expect(parseJsonWithin(objects(MAX_JSON_DEPTH), 'arguments')).toBeTypeOf('object');
    expect(() => parseJsonWithin(objects(5000), 'arguments')).toThrow(
      /^arguments: JSON nested more than 128/,
    );
    expect(() => parseJsonWithin('{"a":', 'arguments')).toThrow(SyntaxError);
  });
});

describe('refuseDeepJsonBody (express.json verify)', () => {
  it('refuses a deep UTF-8 body and lets a shallow one through', () => {
    expect(() => verify(Buffer.from(objects(2000)))).toThrow(/^The request body: JSON nested/);
    expect(() => verify(Buffer.from(objects(MAX_JSON_DEPTH)))).not.toThrow();
  });

  it('reads a UTF-16 body as the text the parser decodes', () => {
    // U+5B22 is the bytes 22 5b in UTF-16LE: read as bytes, quotes and brackets.
    const shallow = Buffer.from(JSON.stringify(['\u5b22'.repeat(600)]), 'utf16le');
    expect(jsonDepth(shallow)).toBeGreaterThan(MAX_JSON_DEPTH);
    expect(() => verify(shallow, 'utf-16le')).not.toThrow();
    expect(() => verify(Buffer.from(arrays(200), 'utf16le'), 'utf-16le')).toThrow(
      InvalidRequestError,
    );
  });

  it('refuses a charset whose depth it cannot read, as a 400', () => {
    expect(() => verify(Buffer.from('{}'), 'utf-32')).toThrow(/Unsupported request encoding/);
  });
});
