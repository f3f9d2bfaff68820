import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { AnswerStream, finishAnswer } from '../../../../src/api/core/index.ts';
import { parseResponsesRequest } from '../../../../src/api/openai/responses-request.ts';
import { responseFromSummary, type IdMaker } from '../../../../src/api/openai/responses-output.ts';
import { ResponsesStreamWriter } from '../../../../src/api/openai/responses-stream.ts';
import { WEATHER_TOOL } from './fixtures.ts';

const ANSWER =
  'Checking both.\n\n```tool-call\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n```\n' +
  '```tool-call\n{"name":"get_weather","arguments":{"city":"Rome"}}\n```';

function counter(): IdMaker {
  let n = 0;
  return (prefix) => `${prefix}${(n++).toString().padStart(4, '0')}`;
}

/** An SDK client whose fetch answers with `body` (JSON, or SSE when a string array). */
function sdkAnswering(body: unknown): OpenAI {
  return new OpenAI({
    apiKey: 'test',
    baseURL: 'http://emulated.invalid/v1',
    maxRetries: 0,
    fetch: async () =>
      Array.isArray(body)
        ? new Response((body as string[]).join(''), {
            headers: { 'content-type': 'text/event-stream' },
          })
        : Response.json(body),
  });
}

const sse = (events: readonly ResponseStreamEvent[]): string[] =>
  events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);

describe('Responses output, read back by the openai SDK', () => {
  const request = parseResponsesRequest({
    model: 'gemini-3-flash',
    input: 'Weather?',
    tools: [WEATHER_TOOL],
  });
  const base = { id: 'resp_1', createdAt: 1_700_000_000, request };
  const usage = { inputTokens: 12, outputTokens: 30 };

  it('builds a Response with a message and function_call items', async () => {
    const summary = finishAnswer(ANSWER, { ...request.turn });
    const body = responseFromSummary(base, summary, usage, counter());
    const response = await sdkAnswering(body).responses.create({
      model: 'gemini-3-flash',
      input: 'Weather?',
    });
    expect(response.output_text).toBe('Checking both.');
    expect(response.status).toBe('completed');
    expect(response.output.map((o) => o.type)).toEqual([
      'message',
      'function_call',
      'function_call',
    ]);
    expect(response.output[1]).toMatchObject({
      type: 'function_call',
      name: 'get_weather',
      arguments: '{"city":"Oslo"}',
      call_id: summary.calls[0]?.id,
      status: 'completed',
    });
    expect(response.usage).toMatchObject({ input_tokens: 12, output_tokens: 30, total_tokens: 42 });
    expect(response.tools).toEqual([WEATHER_TOOL]);
  });

  it('marks a max_output_tokens cut as incomplete', () => {
    const limited = parseResponsesRequest({ input: 'x', max_output_tokens: 1 });
    const summary = finishAnswer('one two three', limited.turn);
    const body = responseFromSummary({ ...base, request: limited }, summary, usage, counter());
    expect(body).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
  });

  it('streams the exact event sequence, assembled by the SDK into the same output', async () => {
    const writer = new ResponsesStreamWriter(base, () => usage, counter());
    const stream = new AnswerStream(request.turn);
    const events = [
      ...writer.start(),
      ...[...ANSWER.match(/[\s\S]{1,7}/g)!.flatMap((c) => stream.push(c)), ...stream.end()].flatMap(
        (e) => writer.push(e),
      ),
    ];
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = [...new Set(events.map((e) => e.type))];
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.completed',
    ]);
    const seen: string[] = [];
    const sdkStream = sdkAnswering(sse(events)).responses.stream({
      model: 'gemini-3-flash',
      input: 'Weather?',
    });
    sdkStream.on('response.function_call_arguments.done', (e) => seen.push(e.arguments));
    const final = await sdkStream.finalResponse();
    expect(seen).toEqual(['{"city":"Oslo"}', '{"city":"Rome"}']);
    const whole = responseFromSummary(base, finishAnswer(ANSWER, request.turn), usage, counter());
    // The SDK's stream helper adds parsed / parsed_arguments (null here); ids are per item.
    const plain = (items: readonly object[]): unknown =>
      JSON.parse(
        JSON.stringify(items, (k, v: unknown) =>
          k === 'parsed' || k === 'parsed_arguments' ? undefined : k === 'id' ? 'x' : v,
        ),
      );
    expect(plain(final.output)).toEqual(plain(whole.output));
    expect(final.output_text).toBe('Checking both.');
  });

  it('ends with response.incomplete after a token cut', () => {
    const limited = parseResponsesRequest({ input: 'x', max_output_tokens: 2 });
    const writer = new ResponsesStreamWriter({ ...base, request: limited }, () => usage, counter());
    const stream = new AnswerStream(limited.turn);
    const events = [...stream.push('one two three four'), ...stream.end()].flatMap((e) =>
      writer.push(e),
    );
    expect(events.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete' },
    });
    expect(writer.error('cut').type).toBe('error');
  });

  it('opens a new message item for text after a call', async () => {
    const writer = new ResponsesStreamWriter(base, () => usage, counter());
    const stream = new AnswerStream(request.turn);
    const text =
      'Before.\n```tool-call\n{"name":"get_weather","arguments":{"city":"A"}}\n```\nAfter.';
    const events = [
      ...writer.start(),
      ...[...stream.push(text), ...stream.end()].flatMap((e) => writer.push(e)),
    ];
    const added = events.filter((e) => e.type === 'response.output_item.added');
    expect(added.map((e) => [e.output_index, e.item.type])).toEqual([
      [0, 'message'],
      [1, 'function_call'],
      [2, 'message'],
    ]);
    const final = await sdkAnswering(sse(events))
      .responses.stream({ model: 'm', input: 'x' })
      .finalResponse();
    // The line break before the call is kept, so the joined text reads as one.
    expect(final.output_text).toBe('Before.\nAfter.');
    expect(final.output.map((o) => o.type)).toEqual(['message', 'function_call', 'message']);
  });
});
