import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BrowserSession,
  COOKIE_CACHE_FILE,
  createBrowserCookies,
  FileCookieSource,
  writeCookieCache,
} from '../../../src/browser/index.ts';
import { ServiceUnavailableError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/logging.ts';

const logger = createLogger({ silent: true });
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) {
    await fn();
  }
});

/** A stand-in CDP endpoint that never has a browser: counts /json/version polls. */
async function deadEndpoint(): Promise<{ url: string; polls: () => number }> {
  let polls = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/json/version') {
      polls += 1;
    }
    res.statusCode = 500;
    res.end('no browser here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, polls: () => polls };
}

function newSession(cdpUrl: string): BrowserSession {
  const session = new BrowserSession({
    cdpUrl,
    keepAliveIntervalMs: 60_000,
    logger,
    operationTimeoutMs: 500,
    reconnectBackoff: { initialMs: 50, factor: 2, maxMs: 200 },
  });
  cleanup.push(() => session.close());
  return session;
}

describe('BrowserSession without a browser', () => {
  it('connect() does not throw: the state is browser_unreachable', async () => {
    const { url } = await deadEndpoint();
    const session = newSession(url);
    const states: string[] = [];
    session.onLoginStateChange((s) => states.push(s));
    expect(session.loginState).toBe('unknown');
    expect(await session.connect()).toBe('browser_unreachable');
    expect(states).toEqual(['browser_unreachable']);
    expect(session.connected).toBe(false);
    expect(session.snapshot()).toMatchObject({
      loginState: 'browser_unreachable',
      connected: false,
      tabOpen: false,
      browserVersion: null,
    });
    expect(session.snapshot().lastError).toMatch(/500/);
  });

  it('every operation fails at once with a 503, never hangs', async () => {
    const { url } = await deadEndpoint();
    const session = newSession(url);
    await session.connect();
    for (const op of [
      () => session.cookies(),
      () => session.refresh(),
      () => session.screenshot(),
      () => session.addCookies([]),
    ]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect(err).toMatchObject({ status: 503, code: 'browser_unreachable', retryAfterS: 5 });
    }
    expect(await session.whenConnected(50)).toBe(false);
  });

  it('keeps polling /json/version with backoff, and stops on close()', async () => {
    const { url, polls } = await deadEndpoint();
    const session = newSession(url);
    await session.connect();
    // 50, 100, 200, 200… ms apart: at least five polls in a second.
    await sleep(1_000);
    expect(polls()).toBeGreaterThanOrEqual(5);
    expect(polls()).toBeLessThan(30);
    await session.close();
    await session.close();
    const after = polls();
    await sleep(400);
    expect(polls()).toBe(after);
    await expect(session.connect()).rejects.toThrow(/closed/);
  });

  it('treats a port with nothing listening the same way', async () => {
    const { url } = await deadEndpoint();
    await cleanup.splice(0)[0]?.();
    const session = newSession(url);
    expect(await session.connect()).toBe('browser_unreachable');
  });
});

describe('createBrowserCookies', () => {
  it('uses cookie_cache.json alone when CHROME_CDP_URL is off', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gk-browser-off-'));
    cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    await writeCookieCache(path.join(dataDir, COOKIE_CACHE_FILE), [
      { name: '__Secure-1PSID', value: 'g.a000-off-psid', domain: '.google.com', path: '/' },
    ]);
    const wired = await createBrowserCookies(
      { cdpUrl: null, keepAliveIntervalMs: 600_000, cookieCacheMs: 5_000, dataDir },
      logger,
    );
    expect(wired.session).toBeNull();
    expect(wired.cookies).toBeInstanceOf(FileCookieSource);
    expect((await wired.cookies.getCookies()).map((c) => c.value)).toEqual(['g.a000-off-psid']);
    await wired.close();
  });

  it('serves saved cookies at start while Chrome is away', async () => {
    const { url } = await deadEndpoint();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gk-browser-away-'));
    cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    await writeCookieCache(path.join(dataDir, COOKIE_CACHE_FILE), [
      { name: '__Secure-1PSID', value: 'g.a000-away-psid', domain: '.google.com', path: '/' },
    ]);
    const wired = await createBrowserCookies(
      { cdpUrl: url, keepAliveIntervalMs: 600_000, cookieCacheMs: 5_000, dataDir },
      logger,
    );
    cleanup.push(() => wired.close());
    expect(wired.session?.loginState).toBe('browser_unreachable');
    expect((await wired.cookies.getCookies()).map((c) => c.value)).toEqual(['g.a000-away-psid']);
    await wired.close();
    await wired.close();
  });
});
