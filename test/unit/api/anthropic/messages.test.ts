import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { AnswerStream, finishAnswer, renderPrompt } from '../../../../src/api/core/index.ts';
import {
  anthropicSse,
  countMessageTokens,
  messageFromSummary,
  MessagesStreamWriter,
  parseMessagesRequest,
  toAnthropicError,
  type AnthropicStreamEvent,
} from '../../../../src/api/anthropic/index.ts';
import { InvalidRequestError, ModelNotFoundError, RateLimitError } from '../../../../src/errors.ts';

const WEATHER = {
  name: 'get_weather',
  description: 'Weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const ANSWER =
  'Checking both.\n\n```tool-call\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n```\n' +
  '```tool-call\n{"name":"get_weather","arguments":{"city":"Rome"}}\n```';
const MAP: Record<string, string> = { 'claude-sonnet-4-5': 'gemini-3-flash' };
const resolve = (name: string): string => {
  if (name.startsWith('claude-')) {
    const mapped = MAP[name];
    if (mapped === undefined) {
      throw new ModelNotFoundError(name);
    }
    return mapped;
  }
  return name;
};

/** An SDK client whose fetch answers with `body` (JSON, or SSE when a string), at `status`. */
function sdkAnswering(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Anthropic {
  return new Anthropic({
    apiKey: 'test',
    baseURL: 'http://emulated.invalid',
    maxRetries: 0,
    fetch: async () =>
      typeof body === 'string'
        ? new Response(body, { headers: { 'content-type': 'text/event-stream' } })
        : Response.json(body, { status, headers }),
  });
}

function streamed(
  request: ReturnType<typeof parseMessagesRequest>,
  text: string,
): AnthropicStreamEvent[] {
  const writer = new MessagesStreamWriter({ id: 'msg_1', model: request.requestedModel }, 7);
  const stream = new AnswerStream(request.turn);
  const chunks = text.match(/[\s\S]{1,5}/g) ?? [];
  return [
    ...writer.start(),
    ...[...chunks.flatMap((c) => stream.push(c)), ...stream.end()].flatMap((e) => writer.push(e)),
  ];
}

describe('parseMessagesRequest', () => {
  it('reads system blocks, images, tool_use history and tool_result turns', () => {
    const r = parseMessagesRequest(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: 'Use metric.' },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 's' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                is_error: true,
                content: [
                  { type: 'text', text: 'no data' },
                  { type: 'image', source: { type: 'url', url: 'https://example.com/map.png' } },
                ],
              },
              { type: 'text', text: 'Try again.' },
            ],
          },
        ],
        tools: [WEATHER],
        tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
        stop_sequences: ['END'],
        stream: true,
        anthropic_beta_field: 1,
      },
      resolve,
    );
    expect(r).toMatchObject({
      requestedModel: 'claude-sonnet-4-5',
      model: 'gemini-3-flash',
      stream: true,
    });
    expect(r.turn.messages).toEqual([
      { role: 'system', text: 'Be brief.\nUse metric.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather here?' },
          { type: 'image', url: 'data:image/png;base64,AAAA' },
          { type: 'image', url: 'https://example.com/a.jpg' },
        ],
      },
      {
        role: 'assistant',
        text: 'Checking.',
        toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      },
      { role: 'tool', callId: 'toolu_1', content: 'no data', isError: true },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Try again.' },
          { type: 'image', url: 'https://example.com/map.png' },
        ],
      },
    ]);
    expect(r.turn).toMatchObject({
      toolChoice: { type: 'tool', name: 'get_weather' },
      parallelToolCalls: false,
      stop: ['END'],
      maxTokens: 100,
      tools: [{ name: 'get_weather', description: 'Weather', parameters: WEATHER.input_schema }],
    });
    const prompt = renderPrompt(r.turn, { continued: false }).text;
    expect(prompt).toContain('[Tool error: get_weather (toolu_1)]');
  });

  it('maps tool_choice any/none/auto and takes our own model names as they are', () => {
    const base = {
      model: 'gemini-3-pro',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
      tools: [WEATHER],
    };
    expect(
      parseMessagesRequest({ ...base, tool_choice: { type: 'any' } }, resolve).turn.toolChoice,
    ).toEqual({ type: 'required' });
    expect(
      parseMessagesRequest({ ...base, tool_choice: { type: 'none' } }, resolve).turn.toolChoice,
    ).toEqual({ type: 'none' });
    const auto = parseMessagesRequest(base, resolve);
    expect(auto.turn.toolChoice).toEqual({ type: 'auto' });
    expect(auto.model).toBe('gemini-3-pro');
    expect(auto.turn.parallelToolCalls).toBe(true);
  });

  it('answers clear 400s (never a 500) for what it cannot honour', () => {
    const ok = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
    const cases: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ ...ok, max_tokens: undefined }, /^max_tokens:/],
      [{ ...ok, messages: [] }, /messages must hold at least one/],
      [
        { ...ok, tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
        /tools\.0: tools of type 'web_search_20250305'/,
      ],
      [
        { ...ok, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
        /messages\.0\.content\.0: content of type 'document'/,
      ],
      [
        {
          ...ok,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', source: { type: 'base64', media_type: 'text/plain', data: 'x' } },
              ],
            },
          ],
        },
        /messages\.0\.content\.0/,
      ],
      [
        {
          ...ok,
          messages: [
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document' }] }],
            },
          ],
        },
        /messages\.0\.content\.0\.content\.0: content of type 'document'/,
      ],
      [
        { ...ok, tools: [WEATHER], tool_choice: { type: 'tool', name: 'other' } },
        /not among tools/,
      ],
      [
        { ...ok, output_config: { format: { type: 'json_schema', schema: { type: 5 } } } },
        /invalid JSON schema/,
      ],
    ];
    for (const [body, message] of cases) {
      expect(() => parseMessagesRequest(body)).toThrow(InvalidRequestError);
      expect(() => parseMessagesRequest(body)).toThrow(message);
    }
    expect(() => parseMessagesRequest({ ...ok, model: 'claude-unknown' }, resolve)).toThrow(
      ModelNotFoundError,
    );
  });
});

describe('Message output, read back by @anthropic-ai/sdk', () => {
  const request = parseMessagesRequest(
    {
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [WEATHER],
    },
    resolve,
  );
  const usage = { inputTokens: 12, outputTokens: 30 };

  it('messages.create parses the Message: thinking, text and tool_use blocks with ids and input objects', async () => {
    const summary = finishAnswer(ANSWER, request.turn);
    const body = messageFromSummary(
      { id: 'msg_1', model: 'claude-sonnet-4-5' },
      summary,
      usage,
      'Thinking it over.',
    );
    const message = await sdkAnswering(body).messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    expect(message.content.map((b) => b.type)).toEqual([
      'thinking',
      'text',
      'tool_use',
      'tool_use',
    ]);
    expect(message.content[2]).toMatchObject({
      type: 'tool_use',
      id: summary.calls[0]?.id,
      name: 'get_weather',
      input: { city: 'Oslo' },
    });
    expect(message.content[3]).toMatchObject({ input: { city: 'Rome' } });
    expect(message).toMatchObject({
      stop_reason: 'tool_use',
      stop_sequence: null,
      model: 'claude-sonnet-4-5',
      usage: { input_tokens: 12, output_tokens: 30 },
    });
  });

  it('says stop_sequence with the sequence, and max_tokens when the limit cut', () => {
    const stop = parseMessagesRequest({
      model: 'm',
      max_tokens: 100,
      stop_sequences: ['##'],
      messages: [{ role: 'user', content: 'x' }],
    });
    const stopped = messageFromSummary(
      { id: 'm', model: 'm' },
      finishAnswer('one ## two', stop.turn),
      usage,
    );
    expect(stopped).toMatchObject({
      stop_reason: 'stop_sequence',
      stop_sequence: '##',
      content: [{ type: 'text', text: 'one ' }],
    });
    const short = parseMessagesRequest({
      model: 'm',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'x' }],
    });
    const cut = messageFromSummary(
      { id: 'm', model: 'm' },
      finishAnswer('one two three', short.turn),
      usage,
    );
    expect(cut).toMatchObject({ stop_reason: 'max_tokens', stop_sequence: null });
    const plain = messageFromSummary(
      { id: 'm', model: 'm' },
      finishAnswer('Hello.', stop.turn),
      usage,
    );
    expect(plain.stop_reason).toBe('end_turn');
  });

  it('streams the exact event sequence; finalMessage() equals the non-streamed Message', async () => {
    const events = streamed(request, ANSWER);
    const names = events.map((e) =>
      e.type === 'content_block_delta' ? `${e.type}:${e.delta.type}` : e.type,
    );
    expect([...new Set(names)]).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta:text_delta',
      'content_block_stop',
      'content_block_delta:input_json_delta',
      'message_delta',
      'message_stop',
    ]);
    expect(names.filter((n) => n === 'content_block_start')).toHaveLength(3);
    const sdkStream = sdkAnswering(events.map(anthropicSse).join('')).messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    const texts: string[] = [];
    sdkStream.on('text', (t) => texts.push(t));
    const final = await sdkStream.finalMessage();
    const whole = messageFromSummary(
      { id: 'msg_1', model: 'claude-sonnet-4-5' },
      finishAnswer(ANSWER, request.turn),
      { inputTokens: 7, outputTokens: final.usage.output_tokens },
    );
    expect(final.content).toEqual(whole.content);
    expect(final.stop_reason).toBe('tool_use');
    expect(texts.join('')).toBe('Checking both.');
    expect(final.usage).toMatchObject({ input_tokens: 7 });
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams thinking deltas and pings, and a stop_sequence in message_delta', async () => {
    const stop = parseMessagesRequest({
      model: 'm',
      max_tokens: 100,
      stop_sequences: ['##'],
      messages: [{ role: 'user', content: 'x' }],
    });
    const writer = new MessagesStreamWriter({ id: 'msg_2', model: 'm' }, 3);
    const stream = new AnswerStream(stop.turn);
    const events = [
      ...writer.start(),
      writer.ping(),
      ...writer.thought('Let me '),
      ...writer.thought('see.'),
      writer.ping(),
      ...[...stream.push('Yes #'), ...stream.push('# no'), ...stream.end()].flatMap((e) =>
        writer.push(e),
      ),
    ];
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({
      delta: { stop_reason: 'stop_sequence', stop_sequence: '##' },
    });
    const sdkStream = sdkAnswering(events.map(anthropicSse).join('')).messages.stream({
      model: 'm',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'x' }],
    });
    const thoughts: string[] = [];
    sdkStream.on('thinking', (delta) => thoughts.push(delta));
    const final = await sdkStream.finalMessage();
    expect(thoughts.join('')).toBe('Let me see.');
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Let me see.', signature: '' },
      { type: 'text', text: 'Yes ', citations: null },
    ]);
    expect(final).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '##' });
  });

  it('an error event after the stream began is raised by the SDK', async () => {
    const writer = new MessagesStreamWriter({ id: 'msg_3', model: 'm' }, 3);
    const stream = new AnswerStream(request.turn);
    const events = [
      ...writer.start(),
      ...stream.push('Partial').flatMap((e) => writer.push(e)),
      ...writer.error(toAnthropicError(new RateLimitError('slow down', 30)).body),
    ];
    expect(events.at(-2)).toEqual({ type: 'content_block_stop', index: 0 });
    const sdkStream = sdkAnswering(events.map(anthropicSse).join('')).messages.stream({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(sdkStream.finalMessage()).rejects.toThrow(/slow down/);
  });
});

describe('errors and count_tokens, read back by @anthropic-ai/sdk', () => {
  it('a 429 arrives as RateLimitError with retry-after; every account cooling is a 529', async () => {
    const limited = toAnthropicError(
      new RateLimitError('Account cooling down.', 1800, { code: 'account_cooling_down' }),
    );
    expect(limited).toEqual({
      status: 429,
      headers: { 'retry-after': '1800' },
      body: {
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Account cooling down.' },
      },
    });
    const error = await sdkAnswering(limited.body, limited.status, limited.headers)
      .messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(
      (error as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after'),
    ).toBe('1800');
    const all = toAnthropicError(
      new RateLimitError('All cooling.', 600, { code: 'all_nodes_cooling' }),
    );
    expect(all).toMatchObject({
      status: 529,
      headers: { 'retry-after': '600' },
      body: { error: { type: 'overloaded_error' } },
    });
    const overloaded = await sdkAnswering(all.body, all.status, all.headers)
      .messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });

  it('maps every status onto its Anthropic type; unknown errors are a generic 500', () => {
    const typeOf = (status: number): [number, string] => {
      const e = toAnthropicError(Object.assign(new InvalidRequestError('x'), { status }));
      return [e.status, e.body.error.type];
    };
    expect([400, 401, 403, 404, 413, 415, 500, 502, 503, 504].map(typeOf)).toEqual([
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'request_too_large'],
      [415, 'invalid_request_error'],
      [500, 'api_error'],
      [502, 'api_error'],
      [503, 'api_error'],
      [504, 'timeout_error'],
    ]);
    const hidden = toAnthropicError(new Error('secret stack detail'));
    expect(hidden).toMatchObject({ status: 500, body: { error: { type: 'api_error' } } });
    expect(hidden.body.error.message).not.toContain('secret');
  });

  it('count_tokens counts the rendered prompt, tools and images included', async () => {
    const body = {
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'How is the weather in Oslo today?' }],
    };
    const plain = countMessageTokens(body, resolve);
    const withTools = countMessageTokens({ ...body, tools: [WEATHER] }, resolve);
    const withImage = countMessageTokens(
      {
        ...body,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x' },
              { type: 'image', source: { type: 'url', url: 'https://e.com/a.png' } },
            ],
          },
        ],
      },
      resolve,
    );
    expect(plain.input_tokens).toBeGreaterThan(5);
    expect(withTools.input_tokens).toBeGreaterThan(plain.input_tokens + 20);
    expect(withImage.input_tokens).toBeGreaterThanOrEqual(258);
    const counted = await sdkAnswering(withTools).messages.countTokens({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(counted).toEqual({ input_tokens: withTools.input_tokens });
    expect(() => countMessageTokens({ ...body, model: 'claude-nope' }, resolve)).toThrow(
      ModelNotFoundError,
    );
  });
});
