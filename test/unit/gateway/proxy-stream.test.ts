/**
 * The proxy's byte path against fake workers: passthrough (JSON and SSE, chunk by chunk), what
 * happens when a worker breaks after the first byte, the client's abort, and backpressure.
 */
import { describe, expect, it } from 'vitest';
import { historyKey, historyKeyAfter } from '../../../src/gateway/index.ts';
import { answerJson, errorJson, post, postRaw, serverScope } from './fake-servers.ts';
import { deferred } from '../support/deferred.ts';
import { chatBody, completion, metricValue, node, sseChunk, until } from './helpers.ts';

const scope = serverScope();

describe('proxy: passthrough', () => {
  it('relays a JSON answer byte for byte and binds the conversation to the node', async () => {
    const a = await scope.worker(answerJson('Fine, thanks.', { 'x-conversation-id': 'conv-7' }));
    const g = await scope.gateway([node({ nodeUrl: a.url, account: 'acct-a' })]);
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ];
    const body = chatBody({ messages });
    const res = await post(g, body, {
      authorization: 'Bearer client-key',
      'x-request-id': 'req-42',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(completion('Fine, thanks.'));
    expect(res.headers.get('x-conversation-id')).toBe('conv-7');
    expect(res.headers.get('x-request-id')).toBe('req-42');
    expect(a.seen[0]?.body).toBe(body);
    expect(a.seen[0]?.headers['authorization']).toBe('Bearer client-key');
    expect(a.seen[0]?.headers['x-request-id']).toBe('req-42');
    await g.bindings.waitForSaves(1);
    expect(g.bindings.saves[0]).toEqual({
      keys: [historyKey(messages), 'conv-7', historyKeyAfter(messages, 'Fine, thanks.')],
      binding: { nodeUrl: a.url, account: 'acct-a' },
    });
  });

  it('streams SSE chunk by chunk: the client has the first chunk before the worker writes the next', async () => {
    const gate = deferred();
    const a = await scope.worker(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-conversation-id': 'conv-s' });
      res.write(sseChunk('one '));
      await gate.promise;
      res.write(sseChunk('two'));
      res.end('data: [DONE]\n\n');
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    const { res } = postRaw(g, chatBody({ stream: true }));
    const response = await res;
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    let received = '';
    let beforeGate = '';
    for await (const chunk of response) {
      received += String(chunk);
      if (beforeGate === '' && received.includes('one ')) {
        beforeGate = received;
        gate.resolve();
      }
    }
    expect(beforeGate).not.toContain('two');
    expect(received).toBe(`${sseChunk('one ')}${sseChunk('two')}data: [DONE]\n\n`);
    await g.bindings.waitForSaves(1);
    const messages = [{ role: 'user', content: 'Hello' }];
    expect(g.bindings.saves[0]?.keys).toEqual(['conv-s', historyKeyAfter(messages, 'one two')]);
  });

  it('relays a non-retryable worker error as it is, without failover', async () => {
    const a = await scope.worker(errorJson(400, 'bad model'));
    const b = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: a.url, weight: 2 }), node({ nodeUrl: b.url })]);
    const res = await post(g, chatBody());
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('bad model');
    expect(b.seen).toHaveLength(0);
    expect(g.bindings.saves).toHaveLength(0);
  });
});

describe('proxy: after the first byte', () => {
  it('never retries a stream that broke mid-answer, and ends it with an error event and [DONE]', async () => {
    const a = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseChunk('partial'), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const b = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: a.url, weight: 2 }), node({ nodeUrl: b.url })]);
    const res = await post(g, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith(sseChunk('partial'))).toBe(true);
    const events = text.split('\n\n').filter((e) => e.trim() !== '');
    const error = JSON.parse(events.at(-2)?.replace(/^\s*data: /, '') ?? '') as {
      error: { code: string; message: string };
    };
    expect(error.error.code).toBe('upstream_outcome_unknown');
    expect(error.error.message).toMatch(/^The worker node connection broke mid-answer/);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(b.seen).toHaveLength(0);
    expect(g.bindings.saves).toHaveLength(0);
  });

  it('cuts a JSON answer that broke mid-body, so the client sees an error', async () => {
    const a = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"id":', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const b = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: a.url, weight: 2 }), node({ nodeUrl: b.url })]);
    const res = await post(g, chatBody());
    await expect(res.text()).rejects.toThrow();
    expect(b.seen).toHaveLength(0);
  });
});

describe('proxy: client abort and backpressure', () => {
  it("passes the client's abort mid-stream to the worker", async () => {
    const a = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseChunk('first'));
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    const { req, res } = postRaw(g, chatBody({ stream: true }));
    const response = await res;
    await new Promise((resolve) => response.once('data', resolve));
    expect(g.inFlight.counts().get(a.url)).toBe(1);
    req.destroy();
    await a.seen[0]?.aborted;
    await until(() => g.inFlight.counts().size === 0, 'in-flight to drain');
    expect(await metricValue(g.metrics, 'gateway_requests_total', { status: '499' })).toBe(1);
  });

  it("passes the client's abort to the worker before any answer, and does not fail over", async () => {
    const a = await scope.worker(() => undefined);
    const b = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: a.url, weight: 2 }), node({ nodeUrl: b.url })]);
    const { req, res } = postRaw(g, chatBody());
    res.catch(() => undefined);
    await until(() => a.seen.length === 1, 'the worker to get the request');
    req.destroy();
    await a.seen[0]?.aborted;
    expect(b.seen).toHaveLength(0);
  });

  it('holds the worker back while the client does not read (no buffering), then delivers all', async () => {
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const a = await scope.worker(async (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(total),
      });
      while (written < total) {
        written += piece.length;
        if (!res.write(piece)) {
          await new Promise((resolve) => res.once('drain', resolve));
        }
      }
      res.end();
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    const { res } = postRaw(g, chatBody());
    const response = await res;
    response.pause();
    // Let the pipe fill: with backpressure the worker stalls far below the total.
    let before = -1;
    while (before !== written) {
      before = written;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(written).toBeLessThan(total / 2);
    let received = 0;
    response.on('data', (c: Buffer) => (received += c.length));
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    expect(received).toBe(total);
  });
});
