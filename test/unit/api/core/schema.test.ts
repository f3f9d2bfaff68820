import { describe, expect, it } from 'vitest';
import { compileSchema, linearPattern } from '../../../../src/api/core/schema.ts';
import { InvalidRequestError } from '../../../../src/errors.ts';

const stringWith = (pattern: string) =>
  compileSchema({ type: 'object', properties: { a: { type: 'string', pattern } } }, 'tools[0]');

describe('schema patterns on RE2', () => {
  it('enforces a pattern', () => {
    const check = stringWith('^[a-z]+$');
    expect(check({ a: 'abc' }).ok).toBe(true);
    expect(check({ a: 'ab1' })).toEqual({
      ok: false,
      errors: ['/a must match pattern "^[a-z]+$"'],
    });
  });

  it('keeps two patterns of one schema apart', () => {
    const check = compileSchema(
      {
        type: 'object',
        properties: {
          a: { type: 'string', pattern: '^a+$' },
          b: { type: 'string', pattern: '^b+$' },
        },
      },
      'tools[0]',
    );
    expect(check({ a: 'aa', b: 'bb' }).ok).toBe(true);
    expect(check({ a: 'aa', b: 'aa' })).toEqual({
      ok: false,
      errors: ['/b must match pattern "^b+$"'],
    });
  });

  it('searches like an ECMAScript pattern (unanchored) and reads its escapes', () => {
    expect(stringWith('b')({ a: 'abc' }).ok).toBe(true);
    expect(stringWith('^\\u0041\\d$')({ a: 'A7' }).ok).toBe(true);
    expect(stringWith('^\\u0041\\d$')({ a: 'B7' }).ok).toBe(false);
  });

  it('applies patternProperties on RE2 too', () => {
    const check = compileSchema(
      { type: 'object', patternProperties: { '^x-': { type: 'number' } } },
      'tools[0]',
    );
    expect(check({ 'x-a': '3' })).toEqual({ ok: true, value: { 'x-a': 3 } });
    expect(check({ 'x-a': 'three' }).ok).toBe(false);
  });

  it('answers a nested quantifier over a long mismatch at once, where V8 backtracks', () => {
    // On V8's own engine `^(a+)+$` over this text takes exponential time.
    const check = stringWith('^(a+)+$');
    expect(check({ a: `${'a'.repeat(5000)}!` }).ok).toBe(false);
    expect(check({ a: 'a'.repeat(5000) }).ok).toBe(true);
  });

  it('leaves a pattern RE2 cannot run unchecked instead of running it on V8', () => {
    // A lookahead keeps V8 from its linear fallback: 40 characters would take hours.
    const check = stringWith('^(a+)+(?=b)');
    expect(check({ a: `${'a'.repeat(40)}!` }).ok).toBe(true);
    expect(linearPattern('(x)\\1', 'u').test('nothing like it')).toBe(true);
  });

  it('still refuses a pattern that is no regexp at all, naming the param', () => {
    expect(() => stringWith('(unclosed')).toThrow(InvalidRequestError);
    expect(() => stringWith('(unclosed')).toThrow(/^tools\[0\]: invalid JSON schema/);
  });
});
