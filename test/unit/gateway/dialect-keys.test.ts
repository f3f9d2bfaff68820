/**
 * What the gateway reads from Anthropic requests (routing fields, the affinity key) and from
 * their answers (the tap), pure: the key a request carries must be the key its previous answer
 * was bound under, whether that answer came whole or streamed.
 */
import { describe, expect, it } from 'vitest';
import { parseAnthropicRequest } from '../../../src/gateway/dialect-request.ts';
import { keyAfter, raw } from './dialect-fixtures.ts';

const delta = (index: number, d: Record<string, unknown>) => ({
  type: 'content_block_delta',
  index,
  delta: d,
});

const anthropicSse = (events: Record<string, unknown>[]): string =>
  events.map((e) => `event: ${String(e['type'])}\ndata: ${JSON.stringify(e)}\n\n`).join('');

describe('Anthropic requests', () => {
  it('reads model and stream; a new chat names no conversation, count_tokens binds nothing', () => {
    const first = parseAnthropicRequest(
      raw({
        model: 'claude-sonnet-4-5',
        stream: true,
        system: 'Be brief.',
        max_tokens: 9,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    );
    expect(first).toMatchObject({
      dialect: 'anthropic',
      model: 'claude-sonnet-4-5',
      stream: true,
      keys: [],
    });
    expect(first.path).toBeUndefined();
    const count = parseAnthropicRequest(
      raw({
        model: 'm',
        stream: true,
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
          { role: 'user', content: 'c' },
        ],
      }),
      true,
    );
    expect(count).toMatchObject({ stream: false, keys: [], messages: [] });
    expect(() => parseAnthropicRequest(Buffer.from('[1]'))).toThrow(/JSON object/);
  });

  const u1 = { role: 'user', content: [{ type: 'text', text: 'What is 2+2?' }] };
  const u2 = { role: 'user', content: 'And 3+3?' };
  const first = parseAnthropicRequest(
    raw({ model: 'm', system: [{ type: 'text', text: 'S' }], messages: [u1] }),
  );

  it('keys the next turn by the answer, whole or streamed, and a regenerate by the same turn', () => {
    const message = {
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'hm', signature: '' },
        { type: 'text', text: 'It is 4.' },
      ],
      stop_reason: 'end_turn',
    };
    const whole = keyAfter('anthropic', false, JSON.stringify(message), first.messages);
    const streamed = keyAfter(
      'anthropic',
      true,
      anthropicSse([
        { type: 'message_start', message: { ...message, content: [] } },
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: '' },
        },
        delta(0, { type: 'thinking_delta', thinking: 'hm' }),
        { type: 'content_block_stop', index: 0 },
        { type: 'ping' },
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
        delta(1, { type: 'text_delta', text: 'It is ' }),
        delta(1, { type: 'text_delta', text: '4.' }),
        { type: 'content_block_stop', index: 1 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } },
        { type: 'message_stop' },
      ]),
      first.messages,
      5,
    );
    const next = parseAnthropicRequest(
      raw({
        model: 'm',
        system: 'S',
        messages: [u1, { role: 'assistant', content: message.content }, u2],
      }),
    );
    expect(next.keys).toHaveLength(1);
    expect(whole).toBe(next.keys[0]);
    expect(streamed).toBe(next.keys[0]);
    // A regenerate (the same history, another last question) continues from the same turn.
    const edited = parseAnthropicRequest(
      raw({
        model: 'm',
        system: 'S',
        messages: [
          u1,
          { role: 'assistant', content: 'It is 4.' },
          { role: 'user', content: 'edited' },
        ],
      }),
    );
    expect(edited.keys).toEqual(next.keys);
  });

  it('keys an agent loop: the tool_result turn (with a word added, as Claude Code sends) finds the answer that made the call', () => {
    const call = { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } };
    const streamed = keyAfter(
      'anthropic',
      true,
      anthropicSse([
        { type: 'message_start', message: {} },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        delta(0, { type: 'text_delta', text: 'Checking.' }),
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { ...call, input: {} } },
        delta(1, { type: 'input_json_delta', partial_json: '{"city": ' }),
        {
          type: 'content_block_delta',
          index: 1,
          delta: { type: 'input_json_delta', partial_json: '"Oslo"}' },
        },
        { type: 'content_block_stop', index: 1 },
        { type: 'message_stop' },
      ]),
      first.messages,
    );
    const loop = parseAnthropicRequest(
      raw({
        model: 'm',
        system: 'S',
        messages: [
          u1,
          { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, call] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [{ type: 'text', text: 'sunny' }],
              },
              { type: 'text', text: '<reminder>' },
            ],
          },
        ],
      }),
    );
    expect(loop.keys).toEqual([streamed]);
  });

  it('binds nothing for an error event, a cut stream, or a body that is no Message', () => {
    const start = anthropicSse([delta(0, { type: 'text_delta', text: 'x' })]);
    expect(keyAfter('anthropic', true, start, first.messages)).toBeNull();
    const failed =
      start +
      anthropicSse([
        { type: 'error', error: { type: 'api_error', message: 'x' } },
        { type: 'message_stop' },
      ]);
    expect(keyAfter('anthropic', true, failed, first.messages)).toBeNull();
    expect(keyAfter('anthropic', false, '{"type":"error","error":{}}', first.messages)).toBeNull();
  });
});
