import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  browserUnreachableError,
  COOKIE_CACHE_FILE,
  LiveCookieSource,
  mergeCookies,
  readCookieCache,
  writeCookieCache,
  type LoginState,
  type LoginStateListener,
} from '../../../src/browser/index.ts';
import type { CookieBrowser } from '../../../src/browser/live-cookie-source.ts';
import { ServiceUnavailableError } from '../../../src/errors.ts';
import type { Cookie } from '../../../src/gemini/index.ts';
import { createLogger, redactText } from '../../../src/logging.ts';

const logger = createLogger({ silent: true });
const c = (name: string, value: string, domain = '.google.com'): Cookie => ({
  name,
  value,
  domain,
  path: '/',
  secure: true,
  httpOnly: true,
});

/** Stands in for BrowserSession: a jar, a connection flag and a login state. */
class FakeBrowser implements CookieBrowser {
  connected = true;
  loginState: LoginState = 'logged_in';
  jar: Cookie[] = [c('__Secure-1PSID', 'g.a000-live-psid'), c('__Secure-1PSIDTS', 'sidts-live-1')];
  reads = 0;
  refreshes = 0;
  added: Cookie[][] = [];
  failReads: Error | null = null;
  /** While set, addCookies waits for it (a slow CDP round trip). */
  addGate: Promise<void> | null = null;
  private readonly listeners = new Set<LoginStateListener>();

  async cookies(): Promise<Cookie[]> {
    this.reads += 1;
    await Promise.resolve();
    if (!this.connected) {
      throw browserUnreachableError('Chrome is not connected');
    }
    if (this.failReads) {
      throw this.failReads;
    }
    return this.jar.map((x) => ({ ...x }));
  }

  async addCookies(cookies: readonly Cookie[]): Promise<void> {
    if (!this.connected) {
      throw browserUnreachableError('Chrome is not connected');
    }
    this.added.push([...cookies]);
    await this.addGate;
    this.jar = mergeCookies(this.jar, cookies);
  }

  async refresh(): Promise<LoginState> {
    this.refreshes += 1;
    if (!this.connected) {
      throw browserUnreachableError('Chrome is not connected');
    }
    return this.loginState;
  }

  async whenConnected(): Promise<boolean> {
    return this.connected;
  }

  onLoginStateChange(listener: LoginStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setState(next: LoginState): void {
    const previous = this.loginState;
    this.loginState = next;
    this.listeners.forEach((l) => l(next, previous));
  }
}

let dir: string;
let file: string;
let browser: FakeBrowser;
let source: LiveCookieSource | null;

async function open(cacheMs = 60_000, cacheWriteIntervalMs = 0): Promise<LiveCookieSource> {
  source = await LiveCookieSource.create({
    session: browser,
    cacheFile: file,
    cacheMs,
    logger,
    reconnectWaitMs: 10,
    cacheWriteIntervalMs,
  });
  return source;
}

async function fileValues(): Promise<string[]> {
  return (await readCookieCache(file)).map((x) => `${x.name}=${x.value}`).sort();
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gk-live-cookies-'));
  file = path.join(dir, COOKIE_CACHE_FILE);
  browser = new FakeBrowser();
  source = null;
});

afterEach(async () => {
  await source?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('LiveCookieSource.getCookies', () => {
  it('reads live, then serves the short cache until invalidated', async () => {
    const s = await open();
    expect((await s.getCookies()).map((x) => x.value)).toEqual([
      'g.a000-live-psid',
      'sidts-live-1',
    ]);
    await s.getCookies();
    expect(browser.reads).toBe(1);
    s.invalidate();
    await s.getCookies();
    expect(browser.reads).toBe(2);
  });

  it('re-reads once the cache is older than cacheMs, and picks up a rotated value', async () => {
    const s = await open(0);
    await s.getCookies();
    browser.jar = mergeCookies(browser.jar, [c('__Secure-1PSIDTS', 'sidts-live-2')]);
    expect((await s.getCookies()).find((x) => x.name === '__Secure-1PSIDTS')?.value).toBe(
      'sidts-live-2',
    );
    expect(browser.reads).toBe(2);
  });

  it('shares one read among concurrent callers', async () => {
    const s = await open();
    await Promise.all([s.getCookies(), s.getCookies(), s.getCookies()]);
    expect(browser.reads).toBe(1);
  });

  it('hands out copies, so a caller cannot change the cache', async () => {
    const s = await open();
    (await s.getCookies()).length = 0;
    expect(await s.getCookies()).toHaveLength(2);
  });

  it('saves cookie_cache.json when the jar changes, and only then', async () => {
    const s = await open(0);
    await s.getCookies();
    await s.flush();
    expect(await fileValues()).toEqual([
      '__Secure-1PSID=g.a000-live-psid',
      '__Secure-1PSIDTS=sidts-live-1',
    ]);
    const firstWrite = (await fs.stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await s.getCookies();
    await s.flush();
    expect((await fs.stat(file)).mtimeMs).toBe(firstWrite);
    browser.jar = mergeCookies(browser.jar, [c('__Secure-1PSIDTS', 'sidts-live-2')]);
    await s.getCookies();
    await s.flush();
    expect(await fileValues()).toEqual([
      '__Secure-1PSID=g.a000-live-psid',
      '__Secure-1PSIDTS=sidts-live-2',
    ]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('serves the saved copy while Chrome is away', async () => {
    await writeCookieCache(file, [c('__Secure-1PSID', 'g.a000-saved-psid')]);
    browser.connected = false;
    const s = await open();
    expect((await s.getCookies()).map((x) => x.value)).toEqual(['g.a000-saved-psid']);
    expect(s.snapshot().servedFrom).toBe('cache');
  });

  it('falls back to the last live read when a read fails mid-way', async () => {
    const s = await open(0);
    await s.getCookies();
    browser.failReads = browserUnreachableError('reading cookies failed; Chrome disconnected');
    expect((await s.getCookies()).map((x) => x.value)).toEqual([
      'g.a000-live-psid',
      'sidts-live-1',
    ]);
  });

  it('throws a clear 503 when Chrome is away and nothing was saved', async () => {
    browser.connected = false;
    const s = await open();
    const err = await s.getCookies().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err).toMatchObject({ status: 503, code: 'browser_unreachable', retryAfterS: 5 });
  });

  it('passes on errors that are not about Chrome being away', async () => {
    const s = await open();
    browser.failReads = new TypeError('a bug');
    await expect(s.getCookies()).rejects.toThrow(TypeError);
  });

  it.each([
    ['a jar without __Secure-1PSID', () => (browser.jar = [c('NID', 'nid-only-value')])],
    ['login_required', () => (browser.loginState = 'login_required')],
  ])('answers 503 "sign in over VNC" for %s', async (_label, arrange) => {
    arrange();
    const s = await open();
    const err = await s.getCookies().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'login_required', retryAfterS: 60 });
    expect((err as Error).message).toMatch(/sign in.*VNC/i);
  });

  it('drops the short cache when the login state changes', async () => {
    const s = await open();
    await s.getCookies();
    browser.setState('login_required');
    await expect(s.getCookies()).rejects.toMatchObject({ code: 'login_required' });
    browser.setState('logged_in');
    await s.getCookies();
    expect(browser.reads).toBe(3);
  });
});

describe('LiveCookieSource.refresh', () => {
  it('reloads through the session and reads afresh', async () => {
    const s = await open();
    await s.getCookies();
    await s.refresh();
    expect(browser.refreshes).toBe(1);
    expect(browser.reads).toBe(2);
  });

  it('fails with a 503 when Chrome does not come back', async () => {
    browser.connected = false;
    const s = await open();
    await expect(s.refresh()).rejects.toMatchObject({ status: 503, code: 'browser_unreachable' });
    expect(browser.refreshes).toBe(0);
  });

  it('fails with login_required when the reload shows a signed-out session', async () => {
    const s = await open();
    browser.jar = [];
    await expect(s.refresh()).rejects.toMatchObject({ code: 'login_required' });
  });
});

describe('LiveCookieSource.absorb', () => {
  it('writes Google cookies into the browser, the served jar and the saved copy', async () => {
    const s = await open();
    await s.getCookies();
    await s.absorb([
      c('__Secure-1PSIDCC', 'psidcc-absorbed-value'),
      c('tracker', 'x-value', '.example.com'),
    ]);
    expect((await s.getCookies()).map((x) => x.name)).toContain('__Secure-1PSIDCC');
    expect(browser.reads).toBe(1);
    await s.flush();
    expect(browser.added).toEqual([[c('__Secure-1PSIDCC', 'psidcc-absorbed-value')]]);
    expect(await fileValues()).toContain('__Secure-1PSIDCC=psidcc-absorbed-value');
    expect(await fileValues()).not.toContain('tracker=x-value');
    expect(redactText('psidcc-absorbed-value')).toBe('[REDACTED]');
  });

  it('drops cookies that arrive already expired', async () => {
    const s = await open();
    await s.getCookies();
    await s.absorb([{ ...c('__Secure-1PSIDTS', 'sidts-dead-value'), expires: 1 }]);
    expect((await s.getCookies()).map((x) => x.name)).toEqual(['__Secure-1PSID']);
  });

  it('does not fail the request when Chrome is away', async () => {
    await writeCookieCache(file, [c('__Secure-1PSID', 'g.a000-saved-psid')]);
    browser.connected = false;
    const s = await open();
    await expect(s.absorb([c('SIDCC', 'sidcc-while-away')])).resolves.toBeUndefined();
    expect(browser.added).toEqual([]);
    expect((await s.getCookies()).map((x) => x.name).sort()).toEqual(['SIDCC', '__Secure-1PSID']);
  });
});

describe('LiveCookieSource.absorb under cookie churn', () => {
  const psidcc = (i: number) => c('__Secure-1PSIDCC', `psidcc-churn-${i}`);
  const served = async (s: LiveCookieSource, name = '__Secure-1PSIDCC') =>
    (await s.getCookies()).find((x) => x.name === name)?.value;

  it('serves each new value at once, without waiting for Chrome or the file', async () => {
    const s = await open(60_000, 60_000);
    await s.getCookies();
    let release = () => {};
    browser.addGate = new Promise((r) => (release = r));
    for (let i = 0; i < 100; i += 1) {
      await s.absorb([psidcc(i)]);
      expect(await served(s)).toBe(`psidcc-churn-${i}`);
    }
    // One write started with the first value; the other 99 wait, folded into one.
    expect(browser.added).toEqual([[psidcc(0)]]);
    release();
    await s.close();
    expect(browser.added).toEqual([[psidcc(0)], [psidcc(99)]]);
    expect(browser.jar.find((x) => x.name === '__Secure-1PSIDCC')?.value).toBe('psidcc-churn-99');
    expect(await fileValues()).toContain('__Secure-1PSIDCC=psidcc-churn-99');
  });

  it('rewrites cookie_cache.json at most once per interval, the newest jar on close', async () => {
    const s = await open(60_000, 60_000);
    await s.getCookies();
    await s.flush();
    const firstWrite = (await fs.stat(file)).mtimeMs;
    for (let i = 0; i < 50; i += 1) {
      await s.absorb([psidcc(i)]);
    }
    await new Promise((r) => setTimeout(r, 30));
    expect((await fs.stat(file)).mtimeMs).toBe(firstWrite);
    expect(await fileValues()).not.toContain('__Secure-1PSIDCC=psidcc-churn-49');
    await s.close();
    expect(await fileValues()).toContain('__Secure-1PSIDCC=psidcc-churn-49');
  });

  it('merges different cookies received while a write is in flight', async () => {
    const s = await open();
    await s.getCookies();
    let release = () => {};
    browser.addGate = new Promise((r) => (release = r));
    await s.absorb([psidcc(1)]);
    await s.absorb([c('__Secure-3PSIDCC', 'three-psidcc-1')]);
    await s.absorb([psidcc(2)]);
    release();
    await s.flush();
    expect(browser.added[1]?.map((x) => `${x.name}=${x.value}`).sort()).toEqual([
      '__Secure-1PSIDCC=psidcc-churn-2',
      '__Secure-3PSIDCC=three-psidcc-1',
    ]);
  });

  it('a live read racing the write-back still sees the received value', async () => {
    const s = await open(0);
    await s.getCookies();
    let release = () => {};
    browser.addGate = new Promise((r) => (release = r));
    await s.absorb([psidcc(7)]);
    // Chrome still holds no PSIDCC; the short cache is off, so this reads Chrome again.
    expect(await served(s)).toBe('psidcc-churn-7');
    expect(browser.reads).toBe(2);
    release();
    await s.flush();
    browser.jar = mergeCookies(browser.jar, [psidcc(8)]);
    // Once Chrome has had the value, Chrome's own newer one wins again.
    expect(await served(s)).toBe('psidcc-churn-8');
  });

  it('logs a failing write-back once, keeps serving, and never rejects', async () => {
    const s = await open();
    await s.getCookies();
    browser.addCookies = () => Promise.reject(browserUnreachableError('writing cookies failed'));
    for (let i = 0; i < 20; i += 1) {
      await expect(s.absorb([psidcc(i)])).resolves.toBeUndefined();
    }
    await expect(s.close()).resolves.toBeUndefined();
    expect(await served(s)).toBe('psidcc-churn-19');
  });
});
