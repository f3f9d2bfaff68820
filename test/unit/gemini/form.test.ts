import { describe, expect, it } from 'vitest';
import { formBody } from '../../../src/gemini/form.ts';

const reference = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

describe('formBody', () => {
  const values = [
    '',
    'plain',
    'a b  c',
    "!'()~*-._",
    '+&=%20%?#/:;,@$[]{}|\\^`"<>',
    'line\nbreak\ttab\r',
    'héllo wörld — ünïcode 日本語',
    'emoji 🙂 and 𝕏',
    'lone \ud800 high and \udc00 low surrogates',
    JSON.stringify([null, JSON.stringify([['say "hi" & (bye)!', 0, null], ["it's ~ok~"]])]),
  ];

  it.each(values)('writes what URLSearchParams writes for %j', (value) => {
    const fields = { at: 'AJ9x:1717000000000', 'f.req': value, [value]: 'as a name' };
    expect(formBody(fields)).toBe(reference(fields));
  });

  it('round-trips through a form parser', () => {
    const fields = { at: 'token', 'f.req': values.join('|') };
    const parsed = Object.fromEntries(new URLSearchParams(formBody(fields)));
    expect(parsed).toEqual(Object.fromEntries(new URLSearchParams(reference(fields))));
  });
});
