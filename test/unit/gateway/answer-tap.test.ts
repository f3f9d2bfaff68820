import { describe, expect, it } from 'vitest';
import { createAnswerTap } from '../../../src/gateway/answer-tap.ts';
import { completion, sseChunk } from './helpers.ts';

const feed = (tap: ReturnType<typeof createAnswerTap>, text: string, size: number): void => {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) {
    tap.push(bytes.subarray(i, i + size));
  }
};

describe('answer tap', () => {
  const stream = `${sseChunk('Hé')}${sseChunk('llo ')}: comment\n\n${sseChunk('wörld')}data: [DONE]\n\n`;

  it('joins SSE deltas, whatever the chunking (even inside a UTF-8 character)', () => {
    for (const size of [1, 3, 7, 1000]) {
      const tap = createAnswerTap('sse');
      feed(tap, stream, size);
      expect(tap.answer()).toBe('Héllo wörld');
    }
  });

  it('gives up on a stream without [DONE], with an error event, or too long', () => {
    const cut = createAnswerTap('sse');
    feed(cut, sseChunk('partial'), 5);
    expect(cut.answer()).toBeNull();
    const failed = createAnswerTap('sse');
    feed(failed, `${sseChunk('a')}data: {"error":{"message":"x"}}\n\ndata: [DONE]\n\n`, 9);
    expect(failed.answer()).toBeNull();
    const long = createAnswerTap('sse', 5);
    feed(long, `${sseChunk('123456')}data: [DONE]\n\n`, 100);
    expect(long.answer()).toBeNull();
  });

  it('reads a JSON answer', () => {
    const tap = createAnswerTap('json');
    feed(tap, completion('Hi there'), 4);
    expect(tap.answer()).toBe('Hi there');
    const bad = createAnswerTap('json');
    feed(bad, '{"choices":', 4);
    expect(bad.answer()).toBeNull();
  });
});
