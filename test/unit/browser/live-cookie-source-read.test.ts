/**
 * LiveCookieSource handing cookies out: live reads behind a short cache, the saved copy while
 * Chrome is away, a clear 503 when neither will do, and refresh through the session.
 */
import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  browserUnreachableError,
  mergeCookies,
  writeCookieCache,
} from '../../../src/browser/index.ts';
import { ServiceUnavailableError } from '../../../src/errors.ts';
import {
  browser,
  file,
  fileValues,
  open,
  useLiveCookieHarness,
} from './support/live-cookie-harness.ts';
import { cookie } from './support/cookies.ts';

useLiveCookieHarness();

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
    browser.jar = mergeCookies(browser.jar, [cookie('__Secure-1PSIDTS', 'sidts-live-2')]);
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
    browser.jar = mergeCookies(browser.jar, [cookie('__Secure-1PSIDTS', 'sidts-live-2')]);
    await s.getCookies();
    await s.flush();
    expect(await fileValues()).toEqual([
      '__Secure-1PSID=g.a000-live-psid',
      '__Secure-1PSIDTS=sidts-live-2',
    ]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('serves the saved copy while Chrome is away', async () => {
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'g.a000-saved-psid')]);
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
    ['a jar without __Secure-1PSID', () => (browser.jar = [cookie('NID', 'nid-only-value')])],
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
