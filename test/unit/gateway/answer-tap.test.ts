import { describe, expect, it } from 'vitest';
import { createAnswerTap } from '../../../src/gateway/answer-tap.ts';
import { historyKey, historyKeyAfter } from '../../../src/history-key.ts';
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

describe('answer tap with tool calls', () => {
  const call = {
    id: 'call_1',
    type: 'function',
    function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
  };
  const user = { role: 'user', content: 'weather?' };
  const next = [user, { role: 'assistant', content: null, tool_calls: [call] }];

  it('reads the calls of a JSON answer, so the next turn of an agent loop finds its node', () => {
    const tap = createAnswerTap('json');
    const body = {
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] } }],
    };
    feed(tap, JSON.stringify(body), 7);
    expect(tap.answer()).toBe('');
    expect(tap.toolCalls()).toEqual([call]);
    expect(historyKeyAfter([user], tap.answer() ?? '', tap.toolCalls())).toBe(
      historyKey([...next, { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }]),
    );
  });

  it('assembles streamed call deltas', () => {
    const delta = (d: unknown) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: d, finish_reason: null }] })}\n\n`;
    const tap = createAnswerTap('sse');
    feed(
      tap,
      delta({ role: 'assistant', content: 'Checking.' }) +
        delta({
          tool_calls: [{ index: 0, ...call, function: { name: 'get_weather', arguments: '' } }],
        }) +
        delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) +
        delta({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }) +
        'data: [DONE]\n\n',
      11,
    );
    expect(tap.answer()).toBe('Checking.');
    expect(tap.toolCalls()).toEqual([call]);
  });
});
