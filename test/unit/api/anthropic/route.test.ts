/**
 * POST /v1/messages and count_tokens mounted in the worker app, driven by the official SDK over
 * a loopback socket with a scripted upstream: model mapping, the exact streamed sequence with
 * thinking, tool use continued natively in the same Gemini chat, limits, pings and metrics.
 * Failures are in route-errors.test.ts.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answering, startScriptedApp, type ScriptedApp } from './app-fixture.ts';
import { ANSWER, WEATHER as WEATHER_SCHEMA } from './fixtures.ts';

const WEATHER: Anthropic.Tool = {
  ...WEATHER_SCHEMA,
  input_schema: { ...WEATHER_SCHEMA.input_schema, type: 'object' },
};
let app: ScriptedApp;
let client: Anthropic;
const ask = (content: string): MessageParam[] => [{ role: 'user', content }];
const nameOf = (e: RawMessageStreamEvent): string =>
  e.type === 'content_block_delta' ? `${e.type}:${e.delta.type}` : e.type;

beforeAll(async () => {
  app = await startScriptedApp(40);
  client = app.client();
});
afterAll(async () => {
  await app?.close();
});

describe('POST /v1/messages', () => {
  it('answers a Message naming the client model; usage.input_tokens is what count_tokens says', async () => {
    app.script(answering('Hello from Gemini.'));
    const body = {
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      system: 'Be brief.',
      messages: ask('Hi'),
    };
    const { data, response } = await client.messages.create(body).withResponse();
    expect(data).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: 'Hello from Gemini.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
    expect(data.id).toMatch(/^msg_/);
    expect(response.headers.get('x-upstream-sent')).toBe('true');
    // Written without express's res.json: the same headers, sized.
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(100);
    expect(app.jobs.at(-1)?.model.name).toBe('gemini-3-flash');
    const counted = await client.messages.countTokens(body);
    expect(data.usage.input_tokens).toBe(counted.input_tokens);
    expect(counted.input_tokens).toBeGreaterThan(0);
    // Counted per route like chat, and timed to the first token.
    const metrics = await app.metrics();
    expect(metrics).toMatch(
      /gk_http_requests_total\{route="\/v1\/messages",status="200"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/gk_http_requests_total\{route="\/v1\/messages\/count_tokens"/);
    expect(metrics).toMatch(/gk_first_token_seconds_count\{[^}]*\} [1-9]/);
  });

  it('streams thinking, then text, in the exact event sequence; finalMessage() assembles both', async () => {
    app.script(answering('The answer is 4.', 'Two and two.'));
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: ask('2+2?'),
    });
    const seen: string[] = [];
    stream.on('streamEvent', (e) => seen.push(nameOf(e)));
    const final = await stream.finalMessage();
    expect(app.jobs.at(-1)?.model.name).toBe('gemini-3-flash-thinking');
    expect([...new Set(seen)]).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta:thinking_delta',
      'content_block_stop',
      'content_block_delta:text_delta',
      'message_delta',
      'message_stop',
    ]);
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Two and two.', signature: '' },
      { type: 'text', text: 'The answer is 4.', citations: null },
    ]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('a streamed tool_use, then its tool_result, continues natively in the same Gemini chat', async () => {
    // Text after the calls streams as its own block; the resent blocks still match the answer.
    app.script(answering(`${ANSWER}\nBack soon.`), answering('Oslo is cold, Rome is warm.'));
    const request = {
      model: 'gemini-3-flash',
      max_tokens: 200,
      tools: [WEATHER],
      messages: ask('Weather in Oslo and Rome?'),
    };
    const stream = client.messages.stream(request);
    const seen: string[] = [];
    stream.on('streamEvent', (e) => seen.push(nameOf(e)));
    const first = await stream.finalMessage();
    expect(seen).toContain('content_block_delta:input_json_delta');
    expect(first.stop_reason).toBe('tool_use');
    const calls = first.content.flatMap((b) => (b.type === 'tool_use' ? [b] : []));
    expect(calls.map((c) => c.input)).toEqual([{ city: 'Oslo' }, { city: 'Rome' }]);
    const second = await client.messages.create({
      ...request,
      messages: [
        ...request.messages,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          // Text beside the results, as Claude Code sends reminders, keeps the chat too.
          content: [
            ...calls.map((c) => ({
              type: 'tool_result' as const,
              tool_use_id: c.id,
              content: '5 C',
            })),
            { type: 'text' as const, text: 'Keep it short.' },
          ],
        },
      ],
    });
    expect(second.content).toEqual([
      { type: 'text', text: 'Oslo is cold, Rome is warm.', citations: null },
    ]);
    expect(first.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use', 'text']);
    const job = app.jobs.at(-1);
    expect(job?.chat).toEqual(app.chats.at(-2));
    expect(job?.prompt).toContain('5 C');
    expect(job?.prompt).toContain('Keep it short.');
    expect(job?.prompt).not.toContain('Weather in Oslo and Rome?');
  });

  it('tool_choice any with a plain answer is re-asked once in the same chat', async () => {
    app.script(answering('I would rather not.'), answering(ANSWER));
    const message = await client.messages.create({
      model: 'gemini-3-flash',
      max_tokens: 200,
      tools: [WEATHER],
      tool_choice: { type: 'any' },
      messages: ask('Weather?'),
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.filter((b) => b.type === 'tool_use')).toHaveLength(2);
  });

  it('max_tokens cuts with stop_reason max_tokens; stop_sequences name the sequence', async () => {
    app.script(answering('one two three four five six seven eight nine ten '.repeat(20)));
    const cut = await client.messages.create({
      model: 'gemini-3-flash',
      max_tokens: 5,
      messages: ask('Count.'),
    });
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.usage.output_tokens).toBeLessThanOrEqual(5);
    app.script(answering('alpha beta STOP gamma'));
    const stopped = await client.messages.create({
      model: 'gemini-3-flash',
      max_tokens: 100,
      stop_sequences: ['STOP'],
      messages: ask('Letters.'),
    });
    expect(stopped).toMatchObject({
      stop_reason: 'stop_sequence',
      stop_sequence: 'STOP',
      content: [{ type: 'text', text: 'alpha beta ' }],
    });
  });

  it('takes a request shaped as Claude Code sends it (beta query, cache_control, thinking, metadata)', async () => {
    app.script(answering('Done.'));
    const res = await app.post('/v1/messages?beta=true', {
      model: 'claude-opus-4-1-20250805',
      max_tokens: 32000,
      stream: true,
      temperature: 1,
      thinking: { type: 'enabled', budget_tokens: 4000 },
      metadata: { user_id: 'user_abc_account__session_1' },
      system: [
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
      ],
      tools: [
        {
          name: 'Bash',
          description: 'Run a command',
          input_schema: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: { command: { type: 'string' } },
            required: ['command'],
            additionalProperties: false,
          },
        },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>ctx</system-reminder>' },
            { type: 'text', text: 'List files.', cache_control: { type: 'ephemeral' } },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"model":"claude-opus-4-1-20250805"');
    expect(text).toContain('event: message_stop');
    expect(app.jobs.at(-1)?.model.name).toBe('gemini-3-flash-thinking');
    expect(app.jobs.at(-1)?.prompt).toContain('List files.');
  });

  it('sends event: ping while the answer is silent', async () => {
    app.script(async function* () {
      yield { type: 'text', delta: 'Wait' };
      await sleep(150);
      yield { type: 'text', delta: 'ed.' };
    });
    const res = await app.post('/v1/messages', {
      model: 'gemini-3-flash',
      max_tokens: 50,
      stream: true,
      messages: ask('Slowly.'),
    });
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(text).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    expect(text.indexOf('event: ping')).toBeLessThan(text.indexOf('ed.'));
    expect(text.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(
      true,
    );
  });
});
