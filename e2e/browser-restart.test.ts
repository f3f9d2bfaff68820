/**
 * Chromium going away under the live session: killed while idle and restarted on the same
 * profile (as Kasm's loop does), and killed in the middle of a cookie read and a refresh.
 * Real headless Chromium and the emulator; a "person" signs in in a tab of their own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  BrowserSession,
  COOKIE_CACHE_FILE,
  LiveCookieSource,
  type LoginState,
} from '../src/browser/index.ts';
import { Emulator } from '../src/emulator/index.ts';
import { ServiceUnavailableError } from '../src/errors.ts';
import type { Cookie } from '../src/gemini/index.ts';
import { asPerson, personSignIn, waitForChromiumGone } from './support/person.ts';
import { watchSecrets } from './support/secret-watch.ts';
import { startChromium, tempDir, type ChromiumHandle } from './support/services.ts';

// Chromium commits its cookie store to disk every 30 s; "idle" means that has happened.
const COOKIE_COMMIT_MS = 32_000;

let emulator: Emulator;
let chrome: ChromiumHandle;
let session: BrowserSession;
let source: LiveCookieSource;
let dataDir: string;
let signedInAt = 0;
/** The logs, and every cookie value the tests saw, to look for in the logs at the end. */
const { logger, lines: logLines, seen: seenValues, see } = watchSecrets();

const psid = (cookies: readonly Cookie[]) =>
  cookies.find((c) => c.name === '__Secure-1PSID')?.value;

/** The person signs in on ServiceLogin in a tab of their own, over their own connection. */
async function signIn(): Promise<void> {
  await personSignIn(chrome.url, 'restart@example.com');
  signedInAt = Date.now();
  see(await asPerson(chrome.url, (context) => context.cookies()));
}

/** Resolves with how long it took the session to reach `want`; fails after `timeoutMs`. */
async function waitForState(
  want: LoginState,
  timeoutMs: number,
  since = Date.now(),
): Promise<number> {
  while (session.loginState !== want && Date.now() - since < timeoutMs) {
    await sleep(25);
  }
  expect(session.loginState).toBe(want);
  return Date.now() - since;
}

beforeAll(async () => {
  dataDir = tempDir('data');
  emulator = await Emulator.start({ certDir: path.join(dataDir, 'ca') });
  chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
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
    cacheMs: 0,
    logger,
  });
  await session.connect();
  await signIn();
  await waitForState('logged_in', 10_000);
});

afterAll(async () => {
  await source?.close();
  await session?.close();
  await chrome?.stop();
  await emulator?.close();
  const dirs = [dataDir, chrome.userDataDir];
  dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
});

it('screenshot() is a PNG of the worker tab', async () => {
  const png = await session.screenshot();
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.length).toBeGreaterThan(1000);
});

it('Chromium killed while idle and restarted on the same profile: logged_in again within 5 s', async () => {
  await sleep(Math.max(0, signedInAt + COOKIE_COMMIT_MS - Date.now()));
  const live = see(await source.getCookies());
  expect(psid(live)).toBeDefined();
  await chrome.kill();
  await waitForState('browser_unreachable', 5_000);
  // The gap: the saved cookies serve at once, nothing hangs.
  expect(await source.getCookies()).toEqual(live);
  expect(source.snapshot().servedFrom).toBe('cache');
  // Kasm's loop waits the same way (pgrep) before it relaunches Chrome.
  await waitForChromiumGone(chrome.userDataDir);
  const restartedAt = Date.now();
  await chrome.start();
  // logged_in means the new worker tab loaded the signed-in /app with the persisted cookies.
  expect(await waitForState('logged_in', 5_000, restartedAt)).toBeLessThan(5_000);
  const back = see(await source.getCookies());
  expect(psid(back)).toBe(psid(live));
  expect(source.snapshot().servedFrom).toBe('live');
  expect(session.snapshot()).toMatchObject({ connected: true, tabOpen: true, reconnects: 1 });
}, 60_000);

it('Chromium killed in the middle of getCookies/refresh: a clear 503, cached cookies meanwhile', async () => {
  const cached = see(await source.getCookies());
  const pid = chrome.pid();
  expect(pid).toBeDefined();
  // Freeze Chrome so both calls are surely in flight, then kill it under them.
  process.kill(pid ?? 0, 'SIGSTOP');
  const reading = source.getCookies();
  const refreshing = source.refresh().then(
    () => null,
    (e: unknown) => e,
  );
  await sleep(300);
  await chrome.kill();
  const refreshErr = await refreshing;
  expect(refreshErr).toBeInstanceOf(ServiceUnavailableError);
  expect(refreshErr).toMatchObject({ status: 503, code: 'browser_unreachable', retryAfterS: 5 });
  expect(await reading).toEqual(cached);
  // A worker with nothing saved gets a clear 503 at once, not a hang.
  const empty = await LiveCookieSource.create({
    session,
    cacheFile: path.join(dataDir, 'empty', COOKIE_CACHE_FILE),
    cacheMs: 0,
    logger,
  });
  const err = await empty.getCookies().catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 503, code: 'browser_unreachable', retryAfterS: 5 });
  await empty.close();
  await waitForChromiumGone(chrome.userDataDir);
  await chrome.start();
  await waitForState('logged_in', 10_000);
}, 60_000);

it('no cookie value reaches the logs', () => {
  const text = logLines.join('');
  expect(text).toContain('Chrome disconnected');
  expect(text).toContain('reconnected to Chrome');
  expect(seenValues.size).toBeGreaterThanOrEqual(5);
  for (const v of seenValues) {
    expect(text.includes(v), 'a cookie value is in the logs').toBe(false);
  }
  // Nothing even had to be redacted: the module never tries to log a value.
  expect(text).not.toContain('[REDACTED]');
});
