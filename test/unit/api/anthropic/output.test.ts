import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerStream, finishAnswer } from '../../../../src/api/core/index.ts';
import {
  anthropicSse,
  messageFromEvents,
  messageFromSummary,
  MessagesStreamWriter,
  parseMessagesRequest,
  toAnthropicError,
} from '../../../../src/api/anthropic/index.ts';
import { RateLimitError } from '../../../../src/errors.ts';
import { chunkings } from '../core/fixtures.ts';
import { ANSWER, WEATHER, resolve, sdkAnswering, streamed } from './fixtures.ts';

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

describe('any chunking', () => {
  it('the SDK assembles the same content as the whole Message, for any chunking', async () => {
    const request = parseMessagesRequest(
      { model: 'm', max_tokens: 500, messages: [{ role: 'user', content: 'x' }], tools: [WEATHER] },
      resolve,
    );
    const text = `Intro ✓ 😀\n${ANSWER}\nAfter.`;
    const once = new AnswerStream(request.turn);
    const whole = messageFromEvents(
      { id: 'msg_1', model: 'm' },
      [...once.push(text), ...once.end()],
      {
        inputTokens: 7,
        outputTokens: 0,
      },
    );
    expect(whole.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use', 'text']);
    expect(whole.stop_reason).toBe('tool_use');
    await fc.assert(
      fc.asyncProperty(chunkings(text), async (chunks) => {
        const writer = new MessagesStreamWriter({ id: 'msg_1', model: 'm' }, 7);
        const stream = new AnswerStream(request.turn);
        const events = [
          ...writer.start(),
          ...[...chunks.flatMap((c) => stream.push(c)), ...stream.end()].flatMap((e) =>
            writer.push(e),
          ),
        ];
        const final = await sdkAnswering(events.map(anthropicSse).join(''))
          .messages.stream({
            model: 'm',
            max_tokens: 500,
            messages: [{ role: 'user', content: 'x' }],
          })
          .finalMessage();
        expect(final.content).toEqual(whole.content);
      }),
      { numRuns: 30 },
    );
  });
});
