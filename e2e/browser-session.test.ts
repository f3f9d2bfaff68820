/**
 * The live browser session against real headless Chromium and the emulator: a "person" signs
 * in through the emulator's ServiceLogin page in a tab of their own; the worker reads cookies
 * live over CDP, keeps the session warm, and notices sign-out and sign-in. Chromium being
 * killed is in browser-restart.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext } from 'playwright-core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  BrowserSession,
  COOKIE_CACHE_FILE,
  DEFAULT_TAB_MARKER,
  LiveCookieSource,
  type LoginState,
} from '../src/browser/index.ts';
import { Emulator } from '../src/emulator/index.ts';
import { ServiceUnavailableError, toOpenAIError } from '../src/errors.ts';
import type { Cookie } from '../src/gemini/index.ts';
import { asPerson as asPersonAt } from './support/person.ts';
import { watchSecrets } from './support/secret-watch.ts';
import { startChromium, tempDir, type ChromiumHandle } from './support/services.ts';

const EMAIL = 'person@example.com';
const LONG_TTL = {
  psidtsTtlMs: 30 * 60_000,
  rotateIntervalMs: 600_000,
  rotateMinIntervalMs: 60_000,
};
const SHORT_TTL = { psidtsTtlMs: 3_000, rotateIntervalMs: 1_000, rotateMinIntervalMs: 500 };

let emulator: Emulator;
let chrome: ChromiumHandle;
let session: BrowserSession;
let source: LiveCookieSource;
let agent: Agent;
let dataDir: string;
/** The logs, and every cookie value the tests saw, to look for in the logs at the end. */
const { logger, lines: logLines, seen: seenValues, see } = watchSecrets();

const value = (jar: readonly Cookie[], n: string) => jar.find((c) => c.name === n)?.value;

/** Runs `fn` in the person's own CDP connection (their browser, not the worker's). */
const asPerson = <T>(fn: (context: BrowserContext) => Promise<T>): Promise<T> =>
  asPersonAt(chrome.url, fn);

/** The person signs in on ServiceLogin in a tab of their own; `keepOpen` runs before it closes. */
async function signIn(keepOpen: () => Promise<void> = async () => {}): Promise<void> {
  await asPerson(async (context) => {
    const page = await context.newPage();
    const next = encodeURIComponent('https://gemini.google.com/app');
    await page.goto(`https://accounts.google.com/ServiceLogin?continue=${next}`);
    await page.fill('#identifierId', EMAIL);
    await Promise.all([
      page.waitForURL('https://gemini.google.com/app'),
      page.click('#identifierNext'),
    ]);
    see(await context.cookies());
    await keepOpen();
    await page.close();
  });
}

async function waitForState(want: LoginState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (session.loginState !== want && Date.now() < deadline) {
    await sleep(50);
  }
  expect(session.loginState).toBe(want);
}

/** Whether the emulator takes these cookies as a live session: GET /app over HTTPS. */
async function signedInAtGoogle(cookies: readonly Cookie[]): Promise<boolean> {
  const header = cookies
    .filter((c) => c.domain === '.google.com' || c.domain === 'gemini.google.com')
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
  const res = await request('https://gemini.google.com/app', {
    dispatcher: agent,
    headers: { cookie: header },
  });
  const body = await res.body.text();
  return res.statusCode === 200 && body.includes('"SNlM0e"');
}

async function readCacheFile(): Promise<{ mode: number; data: Record<string, unknown> }> {
  const file = path.join(dataDir, COOKIE_CACHE_FILE);
  const mode = fs.statSync(file).mode & 0o777;
  return { mode, data: JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> };
}

beforeAll(async () => {
  dataDir = tempDir('data');
  emulator = await Emulator.start({ certDir: path.join(dataDir, 'ca'), ...LONG_TTL });
  chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
  const ca = fs.readFileSync(emulator.caCertPath);
  // The worker's HTTP client keeps the real URL and TLS name and connects to the emulator.
  agent = new Agent({
    connect: (opts, done) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: emulator.port,
        servername: opts.hostname,
        ca,
      });
      socket.once('secureConnect', () => done(null, socket));
      socket.once('error', (err: Error) => done(err, null));
    },
  });
  session = new BrowserSession({
    cdpUrl: chrome.url,
    keepAliveIntervalMs: 600_000,
    logger,
    operationTimeoutMs: 2_000,
    navigationTimeoutMs: 10_000,
    loginRecheckMs: 300,
    loginReloadMinMs: 1_000,
  });
  source = await LiveCookieSource.create({
    session,
    cacheFile: path.join(dataDir, COOKIE_CACHE_FILE),
    cacheMs: 200,
    logger,
  });
});

afterAll(async () => {
  await source?.close();
  await session?.close();
  await agent?.close();
  await chrome?.stop();
  await emulator?.close();
  const dirs = [dataDir, chrome.userDataDir];
  dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
});

it('connects, opens its own marked tab, leaves the person’s tab alone, and starts login_required', async () => {
  expect(await session.connect()).toBe('login_required');
  const urls = await asPerson(async (context) => context.pages().map((p) => p.url()));
  expect(urls).toContain('about:blank');
  expect(urls.filter((u) => u.endsWith(`#${DEFAULT_TAB_MARKER}`))).toEqual([
    `https://gemini.google.com/app#${DEFAULT_TAB_MARKER}`,
  ]);
  const err = await source.getCookies().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ServiceUnavailableError);
  expect(err).toMatchObject({ status: 503, code: 'login_required' });
  expect(toOpenAIError(err).headers['retry-after']).toBe('60');
});

it('notices a sign-in by the person without a restart, and saves cookie_cache.json (0600)', async () => {
  await signIn();
  await waitForState('logged_in', 10_000);
  const cookies = see(await source.getCookies());
  const psid = value(cookies, '__Secure-1PSID');
  expect(psid).toMatch(/\S{10,}/);
  expect(await signedInAtGoogle(cookies)).toBe(true);
  await source.flush();
  const { mode, data } = await readCacheFile();
  expect(mode).toBe(0o600);
  expect(data['SECURE_1PSID']).toBe(psid);
  expect(data['SECURE_1PSIDTS']).toBe(value(cookies, '__Secure-1PSIDTS'));
  expect(typeof data['updated_at']).toBe('string');
  const names = (data['cookies'] as Cookie[]).map((c) => c.name);
  expect(names).toEqual(
    expect.arrayContaining(['__Secure-1PSID', '__Secure-1PSIDTS', 'SID', 'SAPISID']),
  );
});

it('reads rotated cookies live, and the tab’s rotation keeps them valid for several 3 s lifetimes', async () => {
  emulator.setOptions(SHORT_TTL);
  // A fresh PSIDTS, then the worker's tab reloads to take the 1 s rotation; the person leaves.
  await signIn(async () => {
    expect(await session.refresh()).toBe('logged_in');
  });
  const first = see(await source.getCookies());
  const psidts = new Set<string>();
  for (let i = 0; i < 8; i += 1) {
    await sleep(1_500);
    const jar = see(await source.getCookies());
    psidts.add(value(jar, '__Secure-1PSIDTS') ?? '');
    expect(await signedInAtGoogle(jar)).toBe(true);
  }
  // 12 s = four lifetimes: the first value died long ago, yet the live jar is still good.
  expect(await signedInAtGoogle(first)).toBe(false);
  expect(psidts.size).toBeGreaterThanOrEqual(4);
  expect(session.loginState).toBe('logged_in');
  await source.flush();
  const { data } = await readCacheFile();
  expect([...psidts]).toContain(data['SECURE_1PSIDTS']);
  emulator.setOptions(LONG_TTL);
  await session.refresh();
}, 40_000);

it('keep-alive reloads the worker tab on its interval, and a second session reuses the marked tab', async () => {
  // The app may rewrite its URL and drop the fragment; window.name still marks the tab.
  await asPerson(async (context) => {
    const tab = context.pages().find((p) => p.url().endsWith(`#${DEFAULT_TAB_MARKER}`));
    await tab?.evaluate("history.replaceState(null, '', '/app')");
  });
  const second = new BrowserSession({
    cdpUrl: chrome.url,
    keepAliveIntervalMs: 1_000,
    logger,
    random: () => 0.5,
  });
  try {
    expect(await second.connect()).toBe('logged_in');
    emulator.clearRecords();
    await sleep(3_600);
    const appLoads = emulator.records().filter((r) => r.kind === 'app' && r.method === 'GET');
    expect(appLoads.length).toBeGreaterThanOrEqual(2);
    expect(appLoads.length).toBeLessThanOrEqual(5);
    expect(second.snapshot().lastKeepAliveAt).not.toBeNull();
    const appTabs = await asPerson(async (c) =>
      c.pages().filter((p) => p.url().startsWith('https://gemini.google.com/')),
    );
    expect(appTabs.map((p) => p.url())).toEqual(['https://gemini.google.com/app']);
  } finally {
    await second.close();
    await second.close();
  }
  // Closing a session never closes Chrome or the tab.
  expect(session.connected).toBe(true);
  expect(value(see(await session.cookies()), '__Secure-1PSID')).toBeDefined();
});

it('absorb() writes Google cookies into the browser and into cookie_cache.json', async () => {
  const nid: Cookie = {
    name: 'NID',
    value: 'absorbed-nid-123',
    domain: '.google.com',
    path: '/',
  };
  see([nid]);
  await source.absorb([nid, { ...nid, name: 'elsewhere', domain: '.example.com' }]);
  // Served at once; Chrome and the file follow in the background, done once flush() resolves.
  expect((await source.getCookies()).find((c) => c.name === 'NID')?.value).toBe(nid.value);
  await source.flush();
  const inBrowser = await asPerson((c) =>
    c.cookies(['https://gemini.google.com', 'https://example.com']),
  );
  expect(inBrowser.find((c) => c.name === 'NID')?.value).toBe(nid.value);
  expect(inBrowser.some((c) => c.name === 'elsewhere')).toBe(false);
  const { mode, data } = await readCacheFile();
  expect(mode).toBe(0o600);
  expect((data['cookies'] as Cookie[]).find((c) => c.name === 'NID')?.value).toBe(nid.value);
});

it('after a sign-out the state is login_required with a 503; signing in again serves with no restart', async () => {
  const before = see(await source.getCookies());
  await asPerson(async (context) => {
    await (await context.newPage()).goto('https://accounts.google.com/Logout');
  });
  expect(await signedInAtGoogle(before)).toBe(false);
  source.invalidate();
  const err = await source.getCookies().catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 503, code: 'login_required', retryAfterS: 60 });
  expect((err as Error).message).toMatch(/sign in .*VNC/i);
  expect(session.loginState).toBe('login_required');
  await signIn();
  await waitForState('logged_in', 10_000);
  const after = see(await source.getCookies());
  expect(await signedInAtGoogle(after)).toBe(true);
  expect(value(after, '__Secure-1PSIDTS')).not.toBe(value(before, '__Secure-1PSIDTS'));
});

it('no cookie value reaches the logs', () => {
  const text = logLines.join('');
  expect(text).toContain('login state changed');
  expect(seenValues.size).toBeGreaterThan(10);
  for (const v of seenValues) {
    expect(text.includes(v), 'a cookie value is in the logs').toBe(false);
  }
  // Nothing even had to be redacted: the module never tries to log a value.
  expect(text).not.toContain('[REDACTED]');
});
