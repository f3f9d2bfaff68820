/**
 * A stateless Responses client resends `[user, ...output, function_call_output]`. The output of
 * one answer, streamed (text after a call is a message item of its own) or whole (one message,
 * then the calls), must read back as the one assistant turn that was stored, so its history key
 * finds the stored turn and the follow-up continues natively.
 */
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { AnswerStream, type AnswerEvent } from '../../../../src/api/core/index.ts';
import { historyKeyOf } from '../../../../src/api/conversation-plan.ts';
import { parseResponsesRequest } from '../../../../src/api/openai/responses-request.ts';
import { responseFromSummary } from '../../../../src/api/openai/responses-output.ts';
import { ResponsesStreamWriter } from '../../../../src/api/openai/responses-stream.ts';
import { summarize } from '../../../../src/api/core/index.ts';
import { historyBefore } from '../../../../src/history-key.ts';
import { WEATHER_TOOL } from './fixtures.ts';

const call = (city: string) =>
  `\`\`\`tool-call\n{"name":"get_weather","arguments":{"city":"${city}"}}\n\`\`\``;
const ANSWER = `I will use the tools for this.\n\n${call('Oslo')}\n\nThe results will follow.`;
const TWO_CALLS = `First.\n${call('Oslo')}\nBetween.\n${call('Rome')}\nAfter.`;

const request = parseResponsesRequest({ model: 'm', input: 'Weather?', tools: [WEATHER_TOOL] });
const base = { id: 'resp_1', createdAt: 1_700_000_000, request };
const usage = { inputTokens: 1, outputTokens: 1 };

/** One answer through the core, as the route sees it, chunked as it streams. */
function answerEvents(text: string): AnswerEvent[] {
  const stream = new AnswerStream(request.turn);
  const chunks = text.match(/[\s\S]{1,7}/g) ?? [];
  return [...chunks.flatMap((c) => stream.push(c)), ...stream.end()];
}

function streamedOutput(events: readonly AnswerEvent[]): ResponseOutputItem[] {
  const writer = new ResponsesStreamWriter(base, () => usage);
  writer.start();
  const done = events.flatMap((e) => writer.push(e)).at(-1);
  if (done?.type !== 'response.completed') {
    throw new Error('the stream did not complete');
  }
  return done.response.output;
}

/** The follow-up a stateless client sends: its history, the output, a result per call. */
function resend(output: readonly ResponseOutputItem[]) {
  const results = output.flatMap((o) =>
    o.type === 'function_call'
      ? [{ type: 'function_call_output', call_id: o.call_id, output: '{"temp":21}' }]
      : [],
  );
  const input = [{ role: 'user', content: 'Weather?' }, ...output, ...results];
  return parseResponsesRequest({ model: 'm', input, tools: [WEATHER_TOOL] }).turn.messages;
}

describe.each([
  ['text after a call', ANSWER, 3],
  ['text around two calls', TWO_CALLS, 5],
])('a resent answer with %s', (_, text, streamedItems) => {
  const events = answerEvents(text);
  const summary = summarize(events);
  const streamed = streamedOutput(events);
  const whole = responseFromSummary(base, summary, usage).output;
  const stored = historyKeyOf([
    { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
    { role: 'assistant', text: summary.text, toolCalls: summary.calls },
  ]);

  it('streams text after a call as a message item of its own', () => {
    expect(streamed.map((o) => o.type)).toHaveLength(streamedItems);
    expect(streamed.at(-1)?.type).toBe('message');
    expect(whole.map((o) => o.type)[0]).toBe('message');
  });

  it('reads the streamed and the whole output as the one stored assistant turn', () => {
    const fromStream = resend(streamed);
    expect(fromStream).toEqual(resend(whole));
    expect(fromStream.filter((m) => m.role === 'assistant')).toEqual([
      { role: 'assistant', text: summary.text, toolCalls: summary.calls },
    ]);
  });

  it('keys both resends as the stored turn', () => {
    expect(historyKeyOf(historyBefore(resend(streamed)))).toBe(stored);
    expect(historyKeyOf(historyBefore(resend(whole)))).toBe(stored);
  });
});

describe('assistant messages of a resent history', () => {
  it('keeps two assistant messages with no call between them apart', () => {
    const said = ['Hello.', 'How can I help?'];
    const input = [
      { role: 'user', content: 'Hi' },
      ...said.map((content) => ({ role: 'assistant', content })),
      { role: 'user', content: 'Weather?' },
    ];
    const messages = parseResponsesRequest({ model: 'm', input }).turn.messages;
    expect(messages.flatMap((m) => (m.role === 'assistant' ? [m.text] : []))).toEqual(said);
  });

  it('starts a new turn after a function_call_output', () => {
    const fc = { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{}' };
    const messages = parseResponsesRequest({
      model: 'm',
      input: [
        { role: 'user', content: 'Weather?' },
        fc,
        { type: 'function_call_output', call_id: 'c1', output: '3' },
        { role: 'assistant', content: 'It is 3.' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [WEATHER_TOOL],
    }).turn.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
  });
});
