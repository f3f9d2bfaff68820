/**
 * The relayed routes' fast path (src/gateway/fast-path.ts) beside express: the key before any body
 * byte, both 413s, errors in the dialect's shape, the request id, metrics, a client gone mid-body,
 * and what it leaves to express (an encoded body, a path spelled otherwise) relayed as before.
 */
import { once } from 'node:events';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { answerJson, serverScope, type TestGateway } from './fake-servers.ts';
import { chatBody, metricValue, node } from './helpers.ts';

const scope = serverScope();

/** Sends `head` (and `body`) on a raw socket; resolves to everything the gateway sent back. */
function rawExchange(g: TestGateway, head: string, body = ''): Promise<string> {
  const { port } = new URL(g.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(head + body));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (got += text));
    socket.once('end', () => resolve(got));
    socket.once('error', reject);
  });
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string): unknown =>
  JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

describe('gateway fast path', () => {
  it('refuses a wrong key before reading any body byte, closing the connection, in the dialect shape', async () => {
    const w = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: w.url })], { apiKeys: ['sk-right-key'] });
    // A body announced and never sent: the answer can only come from the headers alone.
    const response = await rawExchange(
      g,
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: sk-wrong-key\r\n' +
        'content-type: application/json\r\ncontent-length: 100000\r\n\r\n',
    );
    expect(statusOf(response)).toBe(401);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(bodyOf(response)).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    expect(response).not.toContain('sk-wrong');
    expect(w.seen).toHaveLength(0);
    expect(g.fastTaken).toEqual(['/v1/messages']);
    expect(
      await metricValue(g.metrics, 'gateway_requests_total', {
        route: '/v1/messages',
        status: '401',
        dialect: 'anthropic',
      }),
    ).toBe(1);
  });

  it('refuses a declared oversize body unread (closed), and one sent chunked', async () => {
    const w = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: w.url })], { bodyLimitBytes: 2048 });
    const declared = await rawExchange(
      g,
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 10000\r\n\r\n',
    );
    expect(statusOf(declared)).toBe(413);
    expect(declared).toMatch(/\r\nconnection: close\r\n/i);
    expect(bodyOf(declared)).toMatchObject({ error: { code: 'payload_too_large' } });
    const chunk = JSON.stringify({ contents: [{ parts: [{ text: 'x'.repeat(4000) }] }] });
    const chunked = await rawExchange(
      g,
      'POST /v1beta/models/g:generateContent HTTP/1.1\r\nhost: x\r\n' +
        'transfer-encoding: chunked\r\nconnection: close\r\n\r\n',
      `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(statusOf(chunked)).toBe(413);
    expect(bodyOf(chunked)).toMatchObject({ error: { code: 413 } });
    expect(w.seen).toHaveLength(0);
    expect(g.fastTaken).toEqual(['/v1/chat/completions', '/v1beta/models/g:generateContent']);
  });

  it('refuses a chunked body as soon as it is over the limit, closing instead of reading on', async () => {
    const w = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: w.url })], { bodyLimitBytes: 2048 });
    const chunk = 'x'.repeat(4096);
    // The last chunk is never sent: only a 413 given at once can end this exchange.
    const response = await rawExchange(
      g,
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n',
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    );
    expect(statusOf(response)).toBe(413);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(bodyOf(response)).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(w.seen).toHaveLength(0);
  });

  it('answers Expect: 100-continue with 100 only for an accepted key; a wrong one gets 401 alone', async () => {
    const w = await scope.worker(answerJson('hi'));
    const g = await scope.gateway([node({ nodeUrl: w.url })], { apiKeys: ['sk-right-key'] });
    const head = (key: string, path: string) =>
      `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n` +
      `expect: 100-continue\r\ncontent-length: ${chatBody().length}\r\nconnection: close\r\n\r\n`;
    for (const path of ['/v1/chat/completions', '/v1/chat/completions/', '/upload']) {
      const refused = await rawExchange(g, head('sk-wrong-key', path));
      expect(refused, path).toMatch(/^HTTP\/1\.1 401 /);
      expect(refused, path).not.toContain('100 Continue');
    }
    // A route open without a key (the console's sign-in form) still gets its 100.
    const signIn = net.connect(Number(new URL(g.url).port), '127.0.0.1');
    signIn.setEncoding('utf8');
    signIn.write(
      'POST /console/sign-in HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n',
    );
    const [first] = (await once(signIn, 'data')) as [string];
    signIn.destroy();
    expect(first).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    // The right key: 100 first, then the body is sent and relayed.
    const socket = net.connect(Number(new URL(g.url).port), '127.0.0.1');
    socket.setEncoding('utf8');
    let got = '';
    socket.on('data', (text: string) => {
      if (got === '' && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        socket.write(chatBody());
      }
      got += text;
    });
    socket.write(head('sk-right-key', '/v1/chat/completions'));
    await new Promise((resolve) => socket.once('end', resolve));
    expect(got).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(w.seen[0]?.body).toBe(chatBody());
  });

  it('keeps a sane x-request-id for the client and the worker, and makes one for a bad one', async () => {
    const w = await scope.worker(answerJson('hi'));
    const g = await scope.gateway([node({ nodeUrl: w.url })]);
    const post = (id: string) =>
      fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-request-id': id },
        body: chatBody(),
      });
    const sane = await post('req-42.a');
    expect(sane.headers.get('x-request-id')).toBe('req-42.a');
    expect(w.seen[0]?.headers['x-request-id']).toBe('req-42.a');
    const bad = await post('x'.repeat(300));
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(w.seen[1]?.headers['x-request-id']).toBe(bad.headers.get('x-request-id'));
    expect(g.fastTaken).toHaveLength(2);
  });

  it('a client gone mid-body reaches no worker and counts as 499', async () => {
    const w = await scope.worker(answerJson('never'));
    const g = await scope.gateway([node({ nodeUrl: w.url })]);
    const socket = net.connect(Number(new URL(g.url).port), '127.0.0.1');
    socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"mo',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    let counted = 0;
    for (let i = 0; i < 100 && counted === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      counted = await metricValue(g.metrics, 'gateway_requests_total', { status: '499' });
    }
    expect(counted).toBe(1);
    expect(w.seen).toHaveLength(0);
    expect(g.fastTaken).toEqual(['/v1/chat/completions']);
  });

  it('answers its refusals exactly as express does on the same route', async () => {
    const g = await scope.gateway([], { apiKeys: ['sk-right-key'], bodyLimitBytes: 2048 });
    const auth = { authorization: 'Bearer sk-right-key' };
    const cases: [string, Record<string, string>, string][] = [
      ['/v1/messages', {}, '{}'],
      ['/v1/messages', auth, '{nope'],
      ['/v1/chat/completions', auth, '[1]'],
      ['/v1/chat/completions', auth, chatBody({ pad: 'x'.repeat(4096) })],
      ['/v1beta/models/g:generateContent?key=sk-wrong', {}, '{}'],
      ['/v1beta/models/g:embedContent', auth, '{}'],
      ['/v1/responses', auth, chatBody()],
    ];
    for (const [path, headers, body] of cases) {
      const answer = async (at: string) => {
        const r = await fetch(`${g.url}${at}`, { method: 'POST', headers, body });
        const json: unknown = await r.json();
        return {
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          upstreamSent: r.headers.get('x-upstream-sent'),
          json,
        };
      };
      // A trailing slash: the same route, but express's (the fast path takes exact paths only).
      const [route, query = ''] = path.split('?');
      const fast = await answer(path);
      expect(g.fastTaken.at(-1), path).toBe(path);
      const slow = await answer(`${route}/${query === '' ? '' : `?${query}`}`);
      expect(fast, path).toEqual(slow);
      expect(fast.status, path).toBeGreaterThanOrEqual(400);
    }
  });

  it('leaves an encoded body and a path spelled otherwise to express, which relays them as before', async () => {
    const paths: string[] = [];
    const w = await scope.worker((req, res) => {
      paths.push(req.url ?? '');
      answerJson('hi')(req, res);
    });
    const g = await scope.gateway([node({ nodeUrl: w.url })]);
    const gzipped = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(chatBody()),
    });
    expect(gzipped.status).toBe(200);
    // express.raw inflated it: the worker gets the JSON itself.
    expect(w.seen[0]?.body).toBe(chatBody());
    for (const path of ['/v1/chat/completions/', '/V1/Chat/Completions']) {
      const res = await fetch(`${g.url}${path}`, { method: 'POST', body: chatBody() });
      expect(res.status).toBe(200);
    }
    expect(paths).toEqual(Array(3).fill('/v1/chat/completions'));
    expect(g.fastTaken).toEqual([]);
  });
});
