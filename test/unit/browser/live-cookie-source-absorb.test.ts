/**
 * LiveCookieSource taking cookies in (Set-Cookie from Google): served at once, written back into
 * Chrome and cookie_cache.json off the request path, coalesced under churn, never failing a request.
 */
import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  browserUnreachableError,
  mergeCookies,
  writeCookieCache,
  type LiveCookieSource,
} from '../../../src/browser/index.ts';
import { redactText } from '../../../src/logging.ts';
import {
  browser,
  file,
  fileValues,
  logLines,
  open,
  useLiveCookieHarness,
} from './support/live-cookie-harness.ts';
import { cookie } from './support/cookies.ts';

useLiveCookieHarness();

describe('LiveCookieSource.absorb', () => {
  it('writes Google cookies into the browser, the served jar and the saved copy', async () => {
    const s = await open();
    await s.getCookies();
    await s.absorb([
      cookie('__Secure-1PSIDCC', 'psidcc-absorbed-value'),
      cookie('tracker', 'x-value', '.example.com'),
    ]);
    expect((await s.getCookies()).map((x) => x.name)).toContain('__Secure-1PSIDCC');
    expect(browser.reads).toBe(1);
    await s.flush();
    expect(browser.added).toEqual([[cookie('__Secure-1PSIDCC', 'psidcc-absorbed-value')]]);
    expect(await fileValues()).toContain('__Secure-1PSIDCC=psidcc-absorbed-value');
    expect(await fileValues()).not.toContain('tracker=x-value');
    expect(redactText('psidcc-absorbed-value')).toBe('[REDACTED]');
  });

  it('drops cookies that arrive already expired', async () => {
    const s = await open();
    await s.getCookies();
    await s.absorb([{ ...cookie('__Secure-1PSIDTS', 'sidts-dead-value'), expires: 1 }]);
    expect((await s.getCookies()).map((x) => x.name)).toEqual(['__Secure-1PSID']);
  });

  it('does not fail the request when Chrome is away', async () => {
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'g.a000-saved-psid')]);
    browser.connected = false;
    const s = await open();
    await expect(s.absorb([cookie('SIDCC', 'sidcc-while-away')])).resolves.toBeUndefined();
    expect(browser.added).toEqual([]);
    expect((await s.getCookies()).map((x) => x.name).sort()).toEqual(['SIDCC', '__Secure-1PSID']);
  });
});

describe('LiveCookieSource.absorb under cookie churn', () => {
  const psidcc = (i: number) => cookie('__Secure-1PSIDCC', `psidcc-churn-${i}`);
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
    await s.absorb([cookie('__Secure-3PSIDCC', 'three-psidcc-1')]);
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
    // The name promised "logs once" but nothing read the log.
    const warned = logLines().filter((l) => l.includes('writing cookies back into Chrome'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/write failed/);
  });
});
