/**
 * What the gateway reads from Anthropic and Gemini requests (routing fields, the affinity key)
 * and from their answers (the tap), pure: the key a request carries must be the key its
 * previous answer was bound under, whether that answer came whole or streamed.
 */
import { describe, expect, it } from 'vitest';
import { brokenAnswerTail } from '../../../src/gateway/broken-stream.ts';
import { createDialectTap } from '../../../src/gateway/dialect-taps.ts';
import { parseAnthropicRequest, parseGoogleRequest } from '../../../src/gateway/dialect-request.ts';
import { historyKeyAfter } from '../../../src/history-key.ts';
import type { Dialect } from '../../../src/api/index.ts';

const raw = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));

/** Feeds `text` to a fresh tap in pieces of `size` bytes; the tap's key for the next turn. */
function keyAfter(
  dialect: Dialect,
  sse: boolean,
  text: string,
  messages: Parameters<typeof historyKeyAfter>[0],
  size = 7,
): string | null {
  const tap = createDialectTap(dialect, sse);
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) {
    tap.push(bytes.subarray(i, i + size));
  }
  const answer = tap.answer();
  return answer === null ? null : historyKeyAfter(messages, answer, tap.toolCalls());
}

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

describe('Gemini requests', () => {
  const user = (text: string) => ({ role: 'user', parts: [{ text }] });

  it('reads the model and the method from the path, passes the query on without the key', () => {
    const body = raw({ contents: [user('Hi')] });
    const streamed = parseGoogleRequest(
      body,
      'gemini-2.5-flash:streamGenerateContent',
      '?alt=sse&key=sk-secret',
    );
    expect(streamed).toMatchObject({
      dialect: 'google',
      model: 'gemini-2.5-flash',
      stream: true,
      keys: [],
    });
    expect(streamed.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const whole = parseGoogleRequest(
      body,
      'models/gemini-2.5-pro:generateContent',
      '?key=sk-secret',
    );
    expect(whole).toMatchObject({ model: 'gemini-2.5-pro', stream: false });
    expect(whole.path).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
    const long = raw({
      contents: [user('a'), { role: 'model', parts: [{ text: 'b' }] }, user('c')],
    });
    expect(parseGoogleRequest(long, 'g:countTokens', '').keys).toEqual([]);
    expect(parseGoogleRequest(long, 'g:generateContent', '').keys).toHaveLength(1);
    expect(() => parseGoogleRequest(body, 'gemini-2.5-flash:embedContent', '')).toThrow(/method/);
  });

  const first = parseGoogleRequest(
    raw({ systemInstruction: { parts: [{ text: 'S' }] }, contents: [user('Weather in Oslo?')] }),
    'g:generateContent',
    '',
  );
  const call = { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } };
  const chunk = (parts: unknown[], finishReason?: string) => ({
    candidates: [
      { content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index: 0 },
    ],
  });

  it('keys the next turn alike whether the answer came whole, as SSE or as a JSON array, and however the client echoes it', () => {
    const whole = chunk([{ text: 'plan', thought: true }, { text: 'Let me check.' }, call], 'STOP');
    const chunks = [
      chunk([{ text: 'Let me ' }]),
      chunk([{ text: 'check.' }]),
      chunk([call]),
      chunk([{ text: '' }], 'STOP'),
    ];
    const keys = [
      keyAfter('google', false, JSON.stringify(whole), first.messages),
      keyAfter(
        'google',
        true,
        chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''),
        first.messages,
      ),
      keyAfter(
        'google',
        false,
        `[${chunks.map((c) => JSON.stringify(c)).join('\r\n,')}]`,
        first.messages,
        3,
      ),
    ];
    const answer = { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } };
    const echoedWhole = parseGoogleRequest(
      raw({
        system_instruction: { parts: [{ text: 'S' }] },
        contents: [
          user('Weather in Oslo?'),
          whole.candidates[0]!.content,
          { role: 'user', parts: [answer] },
        ],
      }),
      'g:streamGenerateContent',
      '',
    );
    // @google/genai's chat keeps a streamed answer as one content per chunk.
    const echoedChunks = parseGoogleRequest(
      raw({
        systemInstruction: 'S',
        contents: [
          user('Weather in Oslo?'),
          ...chunks.map((c) => c.candidates[0]!.content),
          { role: 'user', parts: [answer] },
        ],
      }),
      'g:generateContent',
      '',
    );
    expect(echoedWhole.keys).toHaveLength(1);
    expect(echoedChunks.keys).toEqual(echoedWhole.keys);
    expect(keys).toEqual([echoedWhole.keys[0], echoedWhole.keys[0], echoedWhole.keys[0]]);
  });

  it('binds nothing for an error chunk or a stream with no finish', () => {
    const cut = `data: ${JSON.stringify(chunk([{ text: 'a' }]))}\r\n\r\n`;
    expect(keyAfter('google', true, cut, first.messages)).toBeNull();
    const failed = `${cut}data: {"error":{"code":500,"status":"INTERNAL"}}\r\n\r\n`;
    expect(keyAfter('google', true, failed, first.messages)).toBeNull();
    expect(
      keyAfter(
        'google',
        false,
        `[${JSON.stringify(chunk([{ text: 'a' }]))}\r\n,{"error":{}}]`,
        first.messages,
      ),
    ).toBeNull();
  });
});

describe('a stream broken after commit', () => {
  const dataOf = (tail: string | null, prefix: string) => {
    const line = tail?.split(/\r?\n/).find((l) => l.startsWith(prefix));
    return JSON.parse(line?.slice(prefix.length) ?? 'null') as unknown;
  };

  it("ends in each dialect's own error framing", () => {
    const openai = brokenAnswerTail('openai', 'sse');
    expect(dataOf(openai, 'data: ')).toMatchObject({ error: { code: 'upstream_outcome_unknown' } });
    expect(openai).toMatch(/data: \[DONE\]\n\n$/);
    const anthropic = brokenAnswerTail('anthropic', 'sse');
    expect(anthropic).toContain('\n\nevent: error\n');
    expect(dataOf(anthropic, 'data: ')).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });
    expect(dataOf(brokenAnswerTail('google', 'sse'), 'data: ')).toMatchObject({
      error: { code: 502, status: 'INTERNAL' },
    });
    const array = `[${JSON.stringify({ candidates: [] })}${brokenAnswerTail('google', 'json-array')}`;
    expect((JSON.parse(array) as unknown[])[1]).toMatchObject({ error: { status: 'INTERNAL' } });
    expect(brokenAnswerTail('anthropic', 'other')).toBeNull();
  });
});
