/**
 * Anthropic's and Gemini's routes through the gateway against fake workers: the same failover
 * and affinity as chat, the gateway's own errors and a broken stream in the client's dialect,
 * and the key moved out of the URL.
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { errorJson, serverScope } from './fake-servers.ts';
import { metricValue, node } from './helpers.ts';
import { anthropicBody, googleAnswer, message, send } from './dialect-fixtures.ts';

const scope = serverScope();

const answer =
  (body: string, headers: Record<string, string> = {}) =>
  (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
  };

describe('dialects through the proxy', () => {
  it('fails an Anthropic request over from a node that answered 429 without sending, and keeps its bytes', async () => {
    const a = await scope.worker(errorJson(429, 'quota', 30, false));
    const b = await scope.worker(answer(message('from b')));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', weight: 2 }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const body = anthropicBody([{ role: 'user', content: 'Hi' }]);
    const res = await send(g, '/v1/messages', body, {
      'x-api-key': 'k',
      'anthropic-version': '2023-06-01',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(message('from b'));
    expect([a.seen.length, b.seen.length]).toEqual([1, 1]);
    expect(b.seen[0]?.body).toBe(body);
    expect(b.seen[0]?.headers).toMatchObject({
      'x-api-key': 'k',
      'anthropic-version': '2023-06-01',
    });
    expect(await metricValue(g.metrics, 'gateway_failovers_total', { reason: 'status_429' })).toBe(
      1,
    );
  });

  it('never moves a request the worker may have sent: its error goes to the client as it is', async () => {
    const sent = JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'broke' } });
    const a = await scope.worker((_req, res) => {
      res
        .writeHead(502, { 'content-type': 'application/json', 'x-upstream-sent': 'true' })
        .end(sent);
    });
    const b = await scope.worker(answer(message('never')));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', weight: 2 }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const res = await send(g, '/v1/messages', anthropicBody([{ role: 'user', content: 'Hi' }]));
    expect(res.status).toBe(502);
    expect(await res.text()).toBe(sent);
    expect(b.seen).toHaveLength(0);
  });

  it('sends the next Anthropic turn, and a regenerate of it, to the node that answered the first', async () => {
    const a = await scope.worker(answer(message('from a')));
    const b = await scope.worker(answer(message('from b')));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a' }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const u1 = { role: 'user', content: 'first' };
    const firstAnswer = (await (await send(g, '/v1/messages', anthropicBody([u1]))).json()) as {
      content: unknown[];
    };
    await g.bindings.waitForSaves(1);
    const holder = a.seen.length === 1 ? a : b;
    for (const u2 of ['second', 'second, edited', 'second, again']) {
      const history = [
        u1,
        { role: 'assistant', content: firstAnswer.content },
        { role: 'user', content: u2 },
      ];
      expect((await send(g, '/v1/messages', anthropicBody(history))).status).toBe(200);
    }
    expect(holder.seen).toHaveLength(4);
  });

  it('sends the next Gemini turn to the node that answered the first, and passes ?key= on as a header', async () => {
    const a = await scope.worker(answer(googleAnswer('from a')));
    const b = await scope.worker(answer(googleAnswer('from b')));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a' }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const path = '/v1beta/models/gemini-2.5-flash:generateContent?key=sk-query-key';
    const u1 = { role: 'user', parts: [{ text: 'first' }] };
    const first = await send(g, path, JSON.stringify({ contents: [u1] }));
    expect(first.status).toBe(200);
    const { candidates } = (await first.json()) as { candidates: { content: unknown }[] };
    await g.bindings.waitForSaves(1);
    const holder = a.seen.length === 1 ? a : b;
    const history = [u1, candidates[0]?.content, { role: 'user', parts: [{ text: 'second' }] }];
    expect((await send(g, path, JSON.stringify({ contents: history }))).status).toBe(200);
    expect(holder.seen).toHaveLength(2);
    expect(holder.seen[0]?.headers['x-goog-api-key']).toBe('sk-query-key');
  });

  it('relays count_tokens and countTokens to any node, binding nothing', async () => {
    const a = await scope.worker((req, res) => {
      const body = req.url?.includes('countTokens') ? { totalTokens: 7 } : { input_tokens: 7 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    const history = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
    ];
    const count = await send(g, '/v1/messages/count_tokens', anthropicBody(history));
    expect(await count.json()).toEqual({ input_tokens: 7 });
    const google = await send(
      g,
      '/v1beta/models/gemini-2.5-flash:countTokens',
      JSON.stringify({ contents: [] }),
    );
    expect(await google.json()).toEqual({ totalTokens: 7 });
    expect(g.bindings.saves).toEqual([]);
  });
});

describe("the gateway's own errors in the client's dialect", () => {
  it('every account cooling: Anthropic 529 overloaded_error, Gemini 429 RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const cooling = node({ cooldownUntilMs: Date.now() + 42_000, status: '429_LIMIT' });
    const g = await scope.gateway([cooling]);
    const anthropic = await send(
      g,
      '/v1/messages',
      anthropicBody([{ role: 'user', content: 'Hi' }]),
    );
    expect(anthropic.status).toBe(529);
    expect(Number(anthropic.headers.get('retry-after'))).toBeGreaterThan(40);
    expect(await anthropic.json()).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error' },
    });
    const google = await send(
      g,
      '/v1beta/models/g:generateContent',
      JSON.stringify({ contents: [] }),
    );
    expect(google.status).toBe(429);
    expect(await google.json()).toMatchObject({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.RetryInfo',
            retryDelay: expect.stringMatching(/^4\d+s$/) as unknown,
          },
        ],
      },
    });
  });

  it('no node at all, bad JSON, an unknown method: each in the dialect shape', async () => {
    const g = await scope.gateway([]);
    const anthropic = await send(g, '/v1/messages', anthropicBody([]));
    expect(anthropic.status).toBe(503);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    const google = await send(g, '/v1beta/models/g:streamGenerateContent?alt=sse', '{}');
    expect(google.status).toBe(503);
    expect(await google.json()).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
    const bad = await send(g, '/v1/messages', '{nope');
    expect(await bad.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    const method = await send(g, '/v1beta/models/g:embedContent', '{}');
    expect(method.status).toBe(400);
    expect(await method.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT' } });
  });

  it("an unreadable worker error keeps its status, with the gateway's body in the dialect shape", async () => {
    const a = await scope.worker((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'x-upstream-sent': 'false' });
      res.end('x'.repeat(70 * 1024));
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    const res = await send(g, '/v1beta/models/g:generateContent', JSON.stringify({ contents: [] }));
    expect(res.status).toBe(503);
    expect(res.headers.get('x-upstream-sent')).toBe('false');
    expect(await res.json()).toMatchObject({
      error: { status: 'INTERNAL', message: expect.stringContaining('unreadable') as unknown },
    });
  });

  it('a stream the worker breaks mid-answer ends with an Anthropic error event, or a Gemini error chunk', async () => {
    const a = await scope.worker((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const first = req.url?.startsWith('/v1beta')
        ? `data: ${googleAnswer('partial')}\r\n\r\n`
        : 'event: message_start\ndata: {"type":"message_start","message":{}}\n\nevent: content_block_delta\ndata: {"type":"content_bl';
      res.write(first, () => setTimeout(() => res.destroy(), 50));
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    const anthropic = await (
      await send(
        g,
        '/v1/messages',
        anthropicBody([{ role: 'user', content: 'x' }], { stream: true }),
      )
    ).text();
    expect(anthropic).toMatch(
      /\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error"/,
    );
    const google = await (
      await send(
        g,
        '/v1beta/models/g:streamGenerateContent?alt=sse',
        JSON.stringify({ contents: [] }),
      )
    ).text();
    const last =
      google
        .trim()
        .split(/\r?\n\r?\n/)
        .at(-1) ?? '';
    expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({
      error: { code: 502, status: 'INTERNAL' },
    });
    expect(g.bindings.saves).toEqual([]);
  });
});
