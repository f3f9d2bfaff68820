import { Ajv } from 'ajv';
import { describe, expect, it, vi } from 'vitest';
import { parseToolCalls } from '../../../../src/api/core/index.ts';
import { compileSchema, linearPattern } from '../../../../src/api/core/schema.ts';
import { InvalidRequestError } from '../../../../src/errors.ts';
import { AUTO, block } from './fixtures.ts';

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

describe('tool schemas, compiled on first use', () => {
  const tool = (name: string, parameters: Record<string, unknown>) => ({
    name,
    description: '',
    parameters,
  });
  const fresh = (n: number) => ({
    type: 'object',
    properties: { [`only_${n}_${Math.random()}`]: { type: 'string' } },
  });
  const call = (name: string, args: unknown) => block(JSON.stringify({ name, arguments: args }));

  it('compiles only the schema of the tool the model called', () => {
    const compile = vi.spyOn(Ajv.prototype, 'compile');
    try {
      const tools = [tool('a', fresh(1)), tool('b', fresh(2)), tool('c', fresh(3))];
      const parsed = parseToolCalls(call('b', {}), { ...AUTO, tools });
      expect(parsed.calls.map((c) => c.name)).toEqual(['b']);
      expect(compile).toHaveBeenCalledTimes(1);
    } finally {
      compile.mockRestore();
    }
  });

  it('refuses a schema that is no schema at once, naming the param', () => {
    const bad = tool('a', { type: 'object', properties: { x: { type: 'nonsense' } } });
    expect(() => parseToolCalls('', { ...AUTO, tools: [bad] })).toThrow(
      /^tools\[0\]\.parameters: invalid JSON schema/,
    );
  });

  it('leaves the arguments of a schema that only fails to compile unchecked', () => {
    const dangling = tool('a', { type: 'object', properties: { x: { $ref: '#/nowhere' } } });
    const parsed = parseToolCalls(call('a', { x: 5 }), { ...AUTO, tools: [dangling] });
    expect(parsed.calls.map((c) => c.arguments)).toEqual(['{"x":5}']);
    expect(parsed.problems).toEqual([]);
  });

  it("accepts a schema that names its draft (zod 4's 2020-12) and still checks it", () => {
    const named = tool('a', {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { n: { type: 'integer' } },
      required: ['n'],
    });
    const ok = parseToolCalls(call('a', { n: '3' }), { ...AUTO, tools: [named] });
    expect(ok.calls.map((c) => c.arguments)).toEqual(['{"n":3}']);
    const missing = parseToolCalls(call('a', {}), { ...AUTO, tools: [named] });
    expect(missing.problems).toEqual([
      { name: 'a', errors: ["(root) must have required property 'n'"] },
    ]);
    expect(() =>
      compileSchema(
        { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' },
        'f',
      ),
    ).not.toThrow();
  });

  it('checks an $async schema for real instead of passing a promise as valid', () => {
    const check = compileSchema(
      { $async: true, type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      'f',
    );
    expect(check({ n: '3' })).toEqual({ ok: true, value: { n: 3 } });
    expect(check({}).ok).toBe(false);
  });
});
