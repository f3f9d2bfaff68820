/**
 * Failures of POST /v1/messages in the worker app, driven by the official SDK and raw requests
 * over a loopback socket with a scripted upstream: before the 200 a real status in Anthropic's
 * shape with the headers the gateway reads (retry-after, x-upstream-sent); after it an
 * `event: error`; attacker input (a private image URL, bad bodies, unknown models) as 4xx.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitError, UpstreamOutcomeUnknownError } from '../../../../src/errors.ts';
import { startScriptedApp, type ScriptedApp } from './app-fixture.ts';

let app: ScriptedApp;
let client: Anthropic;
const ask = (content: string): MessageParam[] => [{ role: 'user', content }];

beforeAll(async () => {
  app = await startScriptedApp();
  client = app.client();
});
afterAll(async () => {
  await app?.close();
});

describe('errors in Anthropic shape', () => {
  it('a cooling account before the 200: RateLimitError with retry-after and x-upstream-sent false', async () => {
    for (const stream of [false, true]) {
      app.script(async function* () {
        yield* [];
        throw new RateLimitError('The account is cooling down.', 1800, { code: 'usage_limit' });
      });
      const res = await app.post('/v1/messages', {
        model: 'gemini-3-flash',
        max_tokens: 9,
        stream,
        messages: ask('x'),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1800');
      expect(res.headers.get('x-upstream-sent')).toBe('false');
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: 'The account is cooling down.' },
      });
    }
    app.script(async function* () {
      yield* [];
      throw new RateLimitError('cooling', 60);
    });
    await expect(
      client.messages.create({ model: 'gemini-3-flash', max_tokens: 9, messages: ask('x') }),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('a cut after the 200 ends the stream with event: error, which the SDK raises', async () => {
    app.script(async function* () {
      yield { type: 'text', delta: 'Half an ans' };
      throw new UpstreamOutcomeUnknownError('stall');
    });
    const res = await app.post('/v1/messages', {
      model: 'gemini-3-flash',
      max_tokens: 50,
      stream: true,
      messages: ask('x'),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The answer was cut off/,
    );
    expect(text).not.toContain('message_stop');
    app.script(async function* () {
      yield { type: 'text', delta: 'Half' };
      throw new UpstreamOutcomeUnknownError('stall');
    });
    const stream = client.messages.stream({
      model: 'gemini-3-flash',
      max_tokens: 50,
      messages: ask('x'),
    });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it('an image URL goes through the guarded fetch: a private address is a 400, nothing queued', async () => {
    const before = app.jobs.length;
    const res = await app.post('/v1/messages', {
      model: 'gemini-3-flash',
      max_tokens: 5,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'url', url: 'https://intranet.example/cat.png' } },
          ],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    expect(app.jobs).toHaveLength(before);
  });

  it('an unknown model is a 404 not_found_error on both routes; bad bodies are 400s', async () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const res = await app.post(path, { model: 'gpt-nope', max_tokens: 5, messages: ask('x') });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    }
    const bad = await app.post('/v1/messages', { model: 'gemini-3-flash', messages: ask('x') });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    await expect(
      client.messages.create({ model: 'gemini-3-flash', max_tokens: 5, messages: [] }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('bad bodies are 4xx in Anthropic shape, never a 5xx, and nothing is queued', async () => {
    const m = (extra: object) => ({
      model: 'gemini-3-flash',
      max_tokens: 5,
      messages: ask('x'),
      ...extra,
    });
    const block = (b: object) => m({ messages: [{ role: 'user', content: [b] }] });
    const bodies = [
      [],
      {},
      m({ system: 5 }),
      block({ type: 'text' }),
      block({ type: 'document', source: {} }),
      block({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: '!!!' } }),
      m({ messages: [{ role: 'assistant', content: 'a prefill alone' }] }),
      m({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }),
      m({ tool_choice: { type: 'tool', name: 'undeclared' } }),
      m({ output_config: { format: { type: 'json_schema', schema: { type: 'nonsense' } } } }),
    ];
    const tooLong = m({ messages: ask('x'.repeat(200_000)) });
    const before = app.jobs.length;
    const cases: [body: unknown, status: number, type: string][] = [
      ...bodies.map((b): [unknown, number, string] => [b, 400, 'invalid_request_error']),
      [tooLong, 413, 'request_too_large'],
    ];
    for (const [body, status, type] of cases) {
      const res = await app.post('/v1/messages', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(await res.json()).toMatchObject({
        type: 'error',
        error: { type, message: expect.any(String) as unknown },
      });
    }
    expect(app.jobs).toHaveLength(before);
    const text = await app.post('/v1/messages', block({ type: 'text' }));
    expect(((await text.json()) as { error: { message: string } }).error.message).toBe(
      "messages.0.content.0: not a valid 'text' block",
    );
  });
});
