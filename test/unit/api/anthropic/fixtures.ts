/** Shared tools, a model map and an SDK client over an injected fetch, for the Anthropic tests. */
import Anthropic from '@anthropic-ai/sdk';
import { AnswerStream } from '../../../../src/api/core/index.ts';
import {
  MessagesStreamWriter,
  parseMessagesRequest,
  type AnthropicStreamEvent,
} from '../../../../src/api/anthropic/index.ts';
import { ModelNotFoundError } from '../../../../src/errors.ts';

export const WEATHER = {
  name: 'get_weather',
  description: 'Weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
export const ANSWER =
  'Checking both.\n\n```tool-call\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n```\n' +
  '```tool-call\n{"name":"get_weather","arguments":{"city":"Rome"}}\n```';
export const MAP: Record<string, string> = { 'claude-sonnet-4-5': 'gemini-3-flash' };
export const resolve = (name: string): string => {
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
export function sdkAnswering(
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

export function streamed(
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
