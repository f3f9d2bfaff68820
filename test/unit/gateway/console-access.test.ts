/**
 * The operator console's access: sign-in with an admin key only, the session cookie, CSRF and
 * Origin checks on every POST, sign-out; its actions reaching only registered workers, with the
 * operator's key; and its bundled assets.
 */
import { describe, expect, it } from 'vitest';
import type { ConsoleState } from '../../../src/gateway/index.ts';
import { ADMIN, USER, act, keys, session, signIn, signOut } from './console-session.ts';
import { serverScope } from './fake-servers.ts';
import { chatBody, completion, node } from './helpers.ts';

const scope = serverScope();

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
    const forged = await signOut(g, { ...s, csrf: 'wrong' });
    expect(forged.status).toBe(403);
    const out = await signOut(g, s);
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
