/**
 * The proxy's failover before the first byte (refused, 429, 502, 503), its bounds, the answer
 * when every node fails, and conversation affinity, against fake workers.
 */
import { describe, expect, it } from 'vitest';
import { answerJson, deadUrl, errorJson, post, serverScope } from './fake-servers.ts';
import { chatBody, completion, metricValue, node, until } from './helpers.ts';
import { hashMessages } from '../../../src/gateway/index.ts';

const scope = serverScope();

describe('proxy: failover before the first byte', () => {
  it('moves on when the connection is refused', async () => {
    const dead = await deadUrl();
    const b = await scope.worker(answerJson('from b'));
    const g = await scope.gateway([node({ nodeUrl: dead, weight: 2 }), node({ nodeUrl: b.url })]);
    const res = await post(g, chatBody());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(completion('from b'));
    expect(await metricValue(g.metrics, 'gateway_failovers_total', { reason: 'unreachable' })).toBe(
      1,
    );
  });

  it('moves on after a 429 and a 503 that sent nothing upstream, trying each node once', async () => {
    const a = await scope.worker(errorJson(429, 'quota', 30));
    const b = await scope.worker(errorJson(503, 'busy', 7, false));
    const c = await scope.worker(answerJson('from c'));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', weight: 3 }),
      node({ nodeUrl: b.url, account: 'b', weight: 2 }),
      node({ nodeUrl: c.url, account: 'c', weight: 1 }),
    ]);
    const res = await post(g, chatBody());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(completion('from c'));
    expect([a.seen.length, b.seen.length, c.seen.length]).toEqual([1, 1, 1]);
    expect(await metricValue(g.metrics, 'gateway_failovers_total', { reason: 'status_429' })).toBe(
      1,
    );
    expect(await metricValue(g.metrics, 'gateway_failovers_total', { reason: 'status_503' })).toBe(
      1,
    );
    await until(() => g.inFlight.counts().size === 0, 'in-flight to drain');
  });

  it('skips the other nodes of an account that answered 429', async () => {
    const a1 = await scope.worker(errorJson(429, 'quota', 30));
    const a2 = await scope.worker(answerJson('same account'));
    const b = await scope.worker(answerJson('other account'));
    const g = await scope.gateway([
      node({ nodeUrl: a1.url, account: 'acct-a', weight: 3 }),
      node({ nodeUrl: a2.url, account: 'acct-a', weight: 2 }),
      node({ nodeUrl: b.url, account: 'acct-b', weight: 1 }),
    ]);
    const res = await post(g, chatBody());
    expect(await res.text()).toBe(completion('other account'));
    expect(a2.seen).toHaveLength(0);
  });

  it('answers the last upstream error as it is (status, Retry-After, body) when every node fails', async () => {
    const a = await scope.worker(errorJson(429, 'quota', 30));
    const b = await scope.worker(errorJson(503, 'login required', 7, false));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', weight: 2 }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const res = await post(g, chatBody());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({
      error: { message: 'login required', type: 'rate_limit_error', param: null, code: 'e503' },
    });
    // Never the same node twice, though maxAttempts (3) would allow a third attempt.
    expect([a.seen.length, b.seen.length]).toEqual([1, 1]);
  });

  it('stops after maxAttempts', async () => {
    const workers = await Promise.all(
      [1, 2, 3].map((i) => scope.worker(errorJson(502, `bad ${i}`, undefined, false))),
    );
    const g = await scope.gateway(
      workers.map((w, i) => node({ nodeUrl: w.url, account: `acct${i}`, weight: 3 - i })),
      { maxAttempts: 2 },
    );
    const res = await post(g, chatBody());
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('bad 2');
    expect(workers.map((w) => w.seen.length)).toEqual([1, 1, 0]);
  });

  /** One request to a failing node `a` (preferred) beside a healthy `b`; `b` must stay untried. */
  async function failOnA(handle: Parameters<typeof scope.worker>[0], expectedStatus: number) {
    const a = await scope.worker(handle);
    const b = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: a.url, weight: 2 }), node({ nodeUrl: b.url })]);
    const res = await post(g, chatBody());
    expect(res.status).toBe(expectedStatus);
    expect([a.seen.length, b.seen.length]).toEqual([1, 0]);
    expect(await metricValue(g.metrics, 'gateway_failovers_total')).toBe(0);
    return res;
  }

  it('never moves an error once the worker says the prompt may have gone upstream', async () => {
    const res = await failOnA(errorJson(502, 'cut after accept', undefined, true), 502);
    expect(res.headers.get('x-upstream-sent')).toBe('true');
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'cut after accept',
    );
  });

  it('counts a 503 without x-upstream-sent as maybe sent, and a 429 without it as not sent', async () => {
    await failOnA(errorJson(503, 'old worker'), 503);

    const c = await scope.worker(errorJson(429, 'cooling', 30));
    const d = await scope.worker(answerJson('from d'));
    const g2 = await scope.gateway([
      node({ nodeUrl: c.url, account: 'c', weight: 2 }),
      node({ nodeUrl: d.url, account: 'd' }),
    ]);
    expect(await (await post(g2, chatBody())).text()).toBe(completion('from d'));
  });

  it('never moves a request whose connection reset before any response, and says so', async () => {
    const res = await failOnA((req) => void req.socket.destroy(), 502);
    expect(res.headers.get('x-upstream-sent')).toBe('true');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_outcome_unknown');
    expect(body.error.message).toContain('may have reached Gemini');
  });

  it('answers 503 when every node refuses the connection', async () => {
    const g = await scope.gateway([
      node({ nodeUrl: await deadUrl() }),
      node({ nodeUrl: await deadUrl() }),
    ]);
    const res = await post(g, chatBody());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('x-upstream-sent')).toBe('false');
    expect(res.headers.get('x-should-retry')).toBeNull();
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe(
      'service_unavailable',
    );
  });
});

describe('proxy: conversation affinity', () => {
  it('sends a bound conversation to its node, and elsewhere when that node cannot serve', async () => {
    const a = await scope.worker(answerJson('from a', { 'x-conversation-id': 'conv-9' }));
    const b = await scope.worker(answerJson('from b', { 'x-conversation-id': 'conv-9' }));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'acct-a' }),
      node({ nodeUrl: b.url, account: 'acct-b', currentTasks: 5 }),
    ]);
    g.bindings.map.set('conv-9', { nodeUrl: b.url, account: 'acct-b' });
    const first = await post(g, chatBody({ conversation_id: 'conv-9' }));
    expect(await first.text()).toBe(completion('from b'));

    g.setNodes([
      node({ nodeUrl: a.url, account: 'acct-a' }),
      node({ nodeUrl: b.url, account: 'acct-b', loginState: 'login_required' }),
    ]);
    const second = await post(g, chatBody({ conversation_id: 'conv-9' }));
    expect(await second.text()).toBe(completion('from a'));
    await g.bindings.waitForSaves(2);
    expect(g.bindings.map.get('conv-9')).toEqual({ nodeUrl: a.url, account: 'acct-a' });
  });

  it('finds a conversation by its history key on the next turn', async () => {
    const a = await scope.worker(answerJson('from a'));
    const b = await scope.worker(answerJson('Answer one'));
    const g = await scope.gateway([node({ nodeUrl: a.url }), node({ nodeUrl: b.url, weight: 2 })]);
    const turn1 = [{ role: 'user', content: 'Question one' }];
    expect(await (await post(g, chatBody({ messages: turn1 }))).text()).toBe(
      completion('Answer one'),
    );
    await g.bindings.waitForSaves(1);
    // a is now the better choice by load and weight; the binding must still win.
    g.setNodes([node({ nodeUrl: a.url, weight: 5 }), node({ nodeUrl: b.url, currentTasks: 3 })]);
    const turn2 = [
      ...turn1,
      { role: 'assistant', content: 'Answer one' },
      { role: 'user', content: 'Two' },
    ];
    await post(g, chatBody({ messages: turn2 }));
    expect(b.seen).toHaveLength(2);
    expect(a.seen).toHaveLength(0);
  });

  it('sends a regenerate to the node holding the turn it continues from, before conversation_id', async () => {
    const a = await scope.worker(answerJson('from a'));
    const b = await scope.worker(answerJson('from b'));
    const g = await scope.gateway([node({ nodeUrl: a.url }), node({ nodeUrl: b.url })]);
    const history = [
      { role: 'user', content: 'u1' },
      { role: 'assistant', content: 'a1' },
    ];
    // The conversation moved to b later; the turn after a1 lives on a.
    g.bindings.map.set(hashMessages(history), { nodeUrl: a.url, account: 'a1' });
    g.bindings.map.set('conv-1', { nodeUrl: b.url, account: 'a1' });
    const edit = [...history, { role: 'user', content: 'u2 edited' }];
    const res = await post(g, chatBody({ messages: edit, conversation_id: 'conv-1' }));
    expect(await res.text()).toBe(completion('from a'));
    expect(b.seen).toHaveLength(0);
  });
});

describe('proxy: every dialect path of the workers', () => {
  it('sends /v1/responses and /v1/completions to the same path, with the same failover', async () => {
    const a = await scope.worker(errorJson(503, 'busy', 7, false));
    const b = await scope.worker((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-conversation-id': 'resp_1' });
      res.end(JSON.stringify({ path: req.url }));
    });
    const models = ['gemini-3-flash'];
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', weight: 3, models }),
      node({ nodeUrl: b.url, account: 'b', weight: 1, models }),
    ]);
    for (const path of ['/v1/responses', '/v1/completions']) {
      const res = await fetch(`${g.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-3-flash', input: 'hi', prompt: 'hi' }),
      });
      expect(res.status, path).toBe(200);
      expect(await res.json(), path).toEqual({ path });
    }
    expect(a.seen.length).toBe(2);
    // The response id the worker answered binds to it: a continuation goes there at once.
    await until(() => g.inFlight.counts().size === 0, 'in-flight to drain');
    const next = await fetch(`${g.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-3-flash',
        input: 'and?',
        previous_response_id: 'resp_1',
      }),
    });
    expect(next.status).toBe(200);
    expect(a.seen.length).toBe(2);
    expect(b.seen.length).toBe(3);
  });
});

describe('proxy: routing by model', () => {
  it('sends a paid model only to the node whose account has it, by name or alias; none: 404', async () => {
    const free = await scope.worker((_req, res) => {
      res.end(completion('free'));
    });
    const paid = await scope.worker((_req, res) => {
      res.end(completion('paid'));
    });
    const g = await scope.gateway([
      // The free node is idler and heavier: without the model filter it would win every time.
      node({ nodeUrl: free.url, account: 'f', weight: 5, models: ['gemini-3-flash'] }),
      node({
        nodeUrl: paid.url,
        account: 'p',
        models: ['gemini-3.0-pro', 'gemini-3-flash'],
        modelAliases: ['gemini-3-pro'],
        currentTasks: 3,
      }),
    ]);
    for (const model of ['gemini-3.0-pro', 'GEMINI-3-PRO', 'gemini-3-pro']) {
      const res = await post(g, chatBody({ model }));
      expect(await res.text(), model).toBe(completion('paid'));
    }
    expect(await (await post(g, chatBody({ model: 'gemini-3-flash' }))).text()).toBe(
      completion('free'),
    );
    expect(free.seen).toHaveLength(1);
    const missing = await post(g, chatBody({ model: 'gemini-2.5-flash' }));
    expect(missing.status).toBe(404);
    const body = (await missing.json()) as { error: { code: string; param: string } };
    expect(body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(free.seen.length + paid.seen.length).toBe(4);
  });
});
