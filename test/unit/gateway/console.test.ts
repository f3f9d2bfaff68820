/**
 * The operator console's server side: its 15-minute figures, and access (sign-in with an admin
 * key only, the session cookie, CSRF and Origin checks on every POST, sign-out), and its actions
 * reaching only registered workers, with the operator's key.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import express from 'express';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { KeyRing, errorHandler, keyIdOf } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { createConsole, type ConsoleState } from '../../../src/gateway/index.ts';
import { ConsoleStats, quantile } from '../../../src/gateway/console/stats.ts';
import { vncUrlOf } from '../../../src/gateway/console/state.ts';
import { serverScope, type TestGateway } from './fake-servers.ts';
import { chatBody, completion, node } from './helpers.ts';

const scope = serverScope();
const ADMIN = 'sk-console-admin-secret';
const USER = 'sk-console-user-secret';
const keys = { apiKeys: [USER], adminApiKeys: [ADMIN] };

const response = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'response', status, headers, body: null }) as never;

describe('console figures', () => {
  it('quantile picks the nearest rank', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([10], 0.95)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
  });

  it('counts attempts, errors, failovers and sends per node, and forgets after 15 minutes', () => {
    let now = 1_800_000_000_000;
    const stats = new ConsoleStats(() => now);
    const failure = {
      kind: 'saved',
      status: 429,
      headers: {},
      body: Buffer.from(JSON.stringify({ error: { code: 'usage_limit', message: 'Slow down' } })),
    } as const;
    stats.record({
      nodeUrl: 'a',
      attempt: 1,
      ms: 100,
      result: response(429),
      failure,
      failedOver: true,
    });
    stats.record({
      nodeUrl: 'b',
      attempt: 2,
      ms: 300,
      result: response(200, { 'x-upstream-sent': 'true' }),
      failure: null,
      failedOver: false,
    });
    stats.record({
      nodeUrl: 'b',
      attempt: 1,
      ms: 200,
      result: response(200, { 'x-upstream-sent': 'true' }),
      failure: null,
      failedOver: false,
    });
    const a = stats.figures('a');
    expect(a).toMatchObject({ requestsPerMin: 1, errorPct: 100, p50Ms: 100 });
    expect(a.lastError?.text).toBe('HTTP 429 usage_limit: Slow down');
    const b = stats.figures('b');
    expect(b).toMatchObject({
      requestsPerMin: 2,
      errorPct: 0,
      p50Ms: 200,
      p95Ms: 300,
      lastError: null,
    });
    expect(b.series.t).toHaveLength(60);
    expect(b.series.requestsPerMin.at(-1)).toBe(8);
    expect(stats.totals()).toEqual({
      requestsPerMin: 2,
      requests: 2,
      failedOver: 1,
      upstreamSends: 2,
    });
    now += 2 * 60_000;
    expect(stats.figures('b').requestsPerMin).toBe(0);
    expect(stats.totals().requests).toBe(2);
    now += 15 * 60_000;
    expect(stats.totals()).toEqual({
      requestsPerMin: 0,
      requests: 0,
      failedOver: 0,
      upstreamSends: 0,
    });
    expect(stats.figures('b').p95Ms).toBeNull();
  });

  it('fills the VNC template with URL-encoded values, and only yields http(s) links', () => {
    const n = { nodeUrl: 'http://10.0.0.7:8000', account: 'a b@x.com', workerId: 'w/1' } as never;
    expect(vncUrlOf('https://kasm/{account}/vnc.html?w={worker_id}&h={node_host}', n)).toBe(
      'https://kasm/a%20b%40x.com/vnc.html?w=w%2F1&h=10.0.0.7',
    );
    expect(vncUrlOf(null, n)).toBeNull();
    expect(vncUrlOf('{account}', n)).toBeNull();
  });
});

async function signIn(g: TestGateway, key: string, origin = g.url) {
  return fetch(`${g.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ key }).toString(),
  });
}

async function session(g: TestGateway): Promise<{ cookie: string; csrf: string }> {
  const res = await signIn(g, ADMIN);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const html = await (await fetch(`${g.url}/`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? '';
  return { cookie, csrf };
}

const act = (g: TestGateway, s: { cookie: string; csrf: string }, body: object, headers = {}) =>
  fetch(`${g.url}/console/nodes/action`, {
    method: 'POST',
    headers: {
      cookie: s.cookie,
      'content-type': 'application/json',
      origin: g.url,
      'x-csrf-token': s.csrf,
      ...headers,
    },
    body: JSON.stringify(body),
  });

describe('console access', () => {
  it('shows the sign-in form, refuses user keys and other origins, and signs an admin in', async () => {
    const g = await scope.gateway([node()], keys);
    const form = await fetch(`${g.url}/`);
    expect(form.status).toBe(401);
    expect(form.headers.get('www-authenticate')).toBeNull();
    expect(form.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await form.text()).toMatch(/<label for="admin-key">Admin key<\/label>/);
    const user = await signIn(g, USER);
    expect(user.status).toBe(403);
    expect(user.headers.get('set-cookie')).toBeNull();
    expect(await user.text()).toContain('user key');
    expect((await signIn(g, 'sk-wrong')).status).toBe(401);
    expect((await signIn(g, ADMIN, 'https://evil.example')).status).toBe(403);
    const ok = await signIn(g, ADMIN);
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^gk_console=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(ADMIN);
    const state = await fetch(`${g.url}/console/state`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(state.status).toBe(200);
    const body = (await state.json()) as ConsoleState;
    expect(body.nodes.map((n) => n.nodeUrl)).toEqual(['http://10.0.0.1:8000']);
    expect(body.totals).toMatchObject({ eligible: 1, total: 1 });
    expect((await fetch(`${g.url}/console/state`)).status).toBe(401);
  });

  it('a user key sent as a header gets 403 at /, an admin key a session', async () => {
    const g = await scope.gateway([node()], keys);
    const user = await fetch(`${g.url}/`, { headers: { authorization: `Bearer ${USER}` } });
    expect(user.status).toBe(403);
    const admin = await fetch(`${g.url}/`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(admin.status).toBe(200);
    expect(admin.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('actions need the CSRF token and the same origin, reach only registered nodes, with the admin key', async () => {
    const seen: { url: string; auth: string }[] = [];
    const worker = await scope.worker((req, res) => {
      seen.push({ url: req.url ?? '', auth: String(req.headers.authorization) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"draining":true}');
    });
    const g = await scope.gateway([node({ nodeUrl: worker.url })], keys);
    const s = await session(g);
    expect(s.csrf).toMatch(/^[\w-]{40,}$/);
    expect(
      (await act(g, s, { node: worker.url, action: 'drain' }, { 'x-csrf-token': 'x' })).status,
    ).toBe(403);
    const cross = await act(g, s, { node: worker.url, action: 'drain' }, { origin: 'http://evil' });
    expect(cross.status).toBe(403);
    expect((await act(g, { ...s, cookie: '' }, { node: worker.url, action: 'drain' })).status).toBe(
      401,
    );
    expect((await act(g, s, { node: 'http://169.254.169.254', action: 'drain' })).status).toBe(404);
    expect((await act(g, s, { node: worker.url, action: 'rm -rf' })).status).toBe(400);
    expect(seen).toEqual([]);
    const ok = await act(g, s, { node: worker.url, action: 'drain' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, action: 'drain', result: { draining: true } });
    expect(seen).toEqual([{ url: '/admin/drain', auth: `Bearer ${ADMIN}` }]);
  });

  it('a worker refusing an action is a 502 that quotes it; screenshots come through as PNG', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const worker = await scope.worker((req, res) => {
      if (req.url === '/admin/browser/screenshot') {
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
        return;
      }
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'No browser is attached.' } }));
    });
    const g = await scope.gateway([node({ nodeUrl: worker.url })], keys);
    const s = await session(g);
    const refused = await act(g, s, { node: worker.url, action: 'refresh-session' });
    expect(refused.status).toBe(502);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      'The worker answered HTTP 503: No browser is attached.',
    );
    const shot = await fetch(
      `${g.url}/console/nodes/screenshot?node=${encodeURIComponent(worker.url)}`,
      { headers: { cookie: s.cookie } },
    );
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await shot.arrayBuffer())).toEqual(png);
  });

  it('counts proxied requests per node, and sign-out ends the session', async () => {
    const worker = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion('hi'));
    });
    const g = await scope.gateway([node({ nodeUrl: worker.url })], keys);
    const chat = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' },
      body: chatBody(),
    });
    expect(chat.status).toBe(200);
    const s = await session(g);
    const state = (await (
      await fetch(`${g.url}/console/state`, { headers: { cookie: s.cookie } })
    ).json()) as ConsoleState;
    expect(state.nodes[0]?.figures.requestsPerMin).toBe(1);
    expect(state.totals.requests).toBe(1);
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: g.url };
    const forged = await fetch(`${g.url}/console/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: s.cookie, ...form },
      body: 'csrf=wrong',
    });
    expect(forged.status).toBe(403);
    const out = await fetch(`${g.url}/console/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: s.cookie, ...form },
      body: new URLSearchParams({ csrf: s.csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^gk_console=; Max-Age=0/);
    expect((await fetch(`${g.url}/console/state`, { headers: { cookie: s.cookie } })).status).toBe(
      401,
    );
  });

  it('serves the bundled script and styles (uPlot inside, no CDN)', async () => {
    const g = await scope.gateway([node()], keys);
    const js = await fetch(`${g.url}/console/assets/console.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const text = await js.text();
    expect(text).toContain('/console/state');
    expect(text).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    const css = await (await fetch(`${g.url}/console/assets/console.css`)).text();
    expect(css).toContain('.uplot');
    expect(css).toContain('prefers-color-scheme');
    expect((await fetch(`${g.url}/console/assets/other.js`)).status).toBe(404);
  });
});

describe('console audit log', () => {
  it("logs sign-in, each action and sign-out with the key's id, never the key", async () => {
    const worker = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"account":"reset"}');
    });
    const sink = new PassThrough();
    let logs = '';
    sink.on('data', (b: Buffer) => (logs += b.toString('utf8')));
    const ring = new KeyRing({
      apiKeys: [USER],
      adminApiKeys: [ADMIN],
      apiKeysFile: null,
      adminApiKeysFile: null,
      allowNoAuth: false,
    });
    const agent = new Agent();
    const console = createConsole({
      keys: ring,
      nodes: {
        snapshot: () => ({ nodes: [node({ nodeUrl: worker.url })], fetchedAtMs: 1, error: null }),
      },
      report: () => ({
        status: 'ok',
        total: 0,
        eligible: 0,
        registryAgeMs: 0,
        registryExpired: false,
        registryError: null,
        nodes: [],
      }),
      dispatcher: agent,
      logger: createLogger({ stream: sink }),
    });
    const app = express()
      .use(console.router)
      .use(errorHandler(createLogger({ silent: true })));
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const g = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as TestGateway;
    try {
      const s = await session(g);
      expect((await act(g, s, { node: worker.url, action: 'reset-cooldown' })).status).toBe(200);
      await fetch(`${g.url}/console/sign-out`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: s.cookie,
          origin: g.url,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ csrf: s.csrf }).toString(),
      });
      const lines = logs
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const keyId = keyIdOf(ADMIN);
      expect(lines.map((l) => [l['message'], l['keyId']])).toEqual([
        ['console sign-in', keyId],
        ['console action', keyId],
        ['console sign-out', keyId],
      ]);
      expect(lines[1]).toMatchObject({ action: 'reset-cooldown', node: worker.url, ok: true });
      expect(logs).not.toContain(ADMIN);
    } finally {
      server.close();
      await agent.close();
    }
  });
});
