/**
 * The worker attached to a real headless Chromium over CDP, as it is to the person's Chrome in a
 * Kasm desktop: sign-in noticed without a restart, 503 "sign in over VNC" while signed out, the
 * admin routes, and Chromium killed while busy and while idle.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { eventually, personSignIn, personSignOut, waitForChromiumGone } from './support/person.ts';
import { startChromium, type ChromiumHandle } from './support/services.ts';
import { containsNone, startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';

// Chromium commits its cookie store to disk every 30 s; a restart before that loses the sign-in.
const COOKIE_COMMIT_MS = 32_000;
const KEY = 'sk-browser-test-key';
const auth = { authorization: `Bearer ${KEY}` };
let emulator: Emulator;
let chrome: ChromiumHandle;
let worker: TestWorker;
const email = uniqueEmail('browser');
let signedInAt = 0;

async function ask(content: string) {
  const res = await fetch(`${worker.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] }),
  });
  const body = (await res.json()) as {
    error?: { message: string; code: string };
    choices?: { message: { content: string } }[];
  };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

const health = async () =>
  (await fetch(`${worker.url}/health`, { headers: auth }).then((r) => r.json())) as {
    login_state: string;
  };

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
  chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
  worker = await startTestWorker({
    emulator,
    email,
    signIn: false,
    env: { CHROME_CDP_URL: chrome.url, ADMIN_API_KEYS: KEY, GEMINI_COOKIE_CACHE_MS: '200' },
  });
});

afterAll(async () => {
  await worker?.close();
  await chrome?.stop();
  await emulator?.close();
});

describe('login over VNC, stood in for', () => {
  it('before anyone signs in: 503 that says to sign in over VNC, and /ready says no', async () => {
    await eventually(async () => (await health()).login_state === 'login_required', 15_000);
    const r = await ask('before sign-in');
    expect(r.status).toBe(503);
    expect(r.body.error?.message).toMatch(/sign in/i);
    expect(r.body.error?.message).toMatch(/VNC/);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect((await fetch(`${worker.url}/ready`)).status).toBe(503);
  });

  it('the person signs in: the worker notices and serves, with no restart', async () => {
    await personSignIn(chrome.url, email);
    signedInAt = Date.now();
    await eventually(async () => (await ask('after sign-in')).status === 200, 20_000, 500);
    expect((await health()).login_state).toBe('logged_in');
    expect((await fetch(`${worker.url}/ready`)).status).toBe(200);
    const cache = path.join(worker.dataDir, 'cookie_cache.json');
    expect(fs.statSync(cache).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(fs.readFileSync(cache, 'utf8')) as {
      SECURE_1PSID: string;
      cookies: unknown[];
    };
    expect(saved.SECURE_1PSID).toMatch(/^g\.a000/);
    expect(saved.cookies.length).toBeGreaterThan(2);
  });

  it('admin: a PNG screenshot of the worker tab and a session refresh, both behind the key', async () => {
    const shot = await fetch(`${worker.url}/admin/browser/screenshot`, { headers: auth });
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await shot.arrayBuffer())
        .subarray(1, 4)
        .toString('latin1'),
    ).toBe('PNG');
    expect((await fetch(`${worker.url}/admin/browser/screenshot`)).status).toBe(401);
    const refreshed = await fetch(`${worker.url}/admin/session/refresh`, {
      method: 'POST',
      headers: auth,
    });
    expect(await refreshed.json()).toEqual({ login_state: 'logged_in' });
  });

  it('after a sign-out: 503 "sign in"; after signing in again: served, with no restart', async () => {
    await personSignOut(chrome.url);
    await eventually(async () => (await ask('signed out')).status === 503, 20_000, 300);
    const r = await ask('still signed out');
    expect(r.status).toBe(503);
    expect(r.body.error?.message).toMatch(/sign in/i);
    await personSignIn(chrome.url, email);
    signedInAt = Date.now();
    await eventually(async () => (await ask('signed in again')).status === 200, 30_000, 500);
  });
});

describe('keep-alive', () => {
  it('keeps serving for several short cookie lifetimes, carried by the page rotating them', async () => {
    emulator.setOptions({ psidtsTtlMs: 3000, rotateIntervalMs: 1000, rotateMinIntervalMs: 500 });
    // A fresh session under the short lifetime, and the worker's tab reloaded so that its rotation
    // script takes the short interval.
    await personSignIn(chrome.url, email);
    await fetch(`${worker.url}/admin/session/refresh`, { method: 'POST', headers: auth });
    await eventually(async () => (await ask('short lifetime')).status === 200, 15_000, 300);
    const cache = path.join(worker.dataDir, 'cookie_cache.json');
    const seen = new Set<string>();
    const start = Date.now();
    while (Date.now() - start < 12_000) {
      const r = await ask(`lifetime ${Date.now() - start}`);
      expect(r.status).toBe(200);
      seen.add(
        (JSON.parse(fs.readFileSync(cache, 'utf8')) as { SECURE_1PSIDTS: string }).SECURE_1PSIDTS,
      );
      await sleep(700);
    }
    emulator.setOptions({
      psidtsTtlMs: 30 * 60_000,
      rotateIntervalMs: 600_000,
      rotateMinIntervalMs: 60_000,
    });
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });
});

describe('Chromium going away', () => {
  it('killed in the middle of a request: the answer still arrives, and the worker lives on', async () => {
    emulator.setOptions({ chunkDelayMs: 150 });
    const pending = ask('killed mid-request');
    await sleep(300);
    await chrome.kill();
    const r = await pending;
    emulator.setOptions({ chunkDelayMs: 5 });
    // The node transport sends with the cookies already read: losing Chrome does not cut it.
    expect(r.status).toBe(200);
    expect(r.body.choices?.[0]?.message.content).toContain('killed mid-request');
    expect((await fetch(`${worker.url}/health`)).status).toBe(200);
    await waitForChromiumGone(chrome.userDataDir);
    await chrome.start();
    // Reconnected. The sign-in may be lost: Chromium had not yet written its cookies to disk.
    await eventually(
      async () => (await health()).login_state !== 'browser_unreachable',
      10_000,
      200,
    );
  });

  it('killed while idle and restarted on the same profile: serving again within 5 s', async () => {
    await personSignIn(chrome.url, email);
    signedInAt = Date.now();
    await fetch(`${worker.url}/admin/session/refresh`, { method: 'POST', headers: auth });
    await eventually(async () => (await ask('before the kill')).status === 200, 15_000, 300);
    await sleep(Math.max(0, COOKIE_COMMIT_MS - (Date.now() - signedInAt)));
    await chrome.kill();
    await waitForChromiumGone(chrome.userDataDir);
    // Meanwhile the cached cookies keep the worker serving.
    expect((await ask('while Chrome is away')).status).toBe(200);
    await chrome.start();
    const ms = await eventually(
      async () => (await health()).login_state === 'logged_in',
      5_000,
      100,
    );
    expect(ms).toBeLessThan(5_000);
    expect((await ask('after the restart')).status).toBe(200);
  });

  it('no cookie value or key reaches the logs', async () => {
    const cache = JSON.parse(
      fs.readFileSync(path.join(worker.dataDir, 'cookie_cache.json'), 'utf8'),
    ) as { cookies: { value: string }[] };
    expect(containsNone(worker.logs(), [...cache.cookies.map((c) => c.value), KEY])).toBe(true);
  });
});
