/**
 * The emulator in real headless Chromium: a person signs in on ServiceLogin, lands on /app signed
 * in, the .google.com cookies are readable over CDP, and the open tab's rotation iframe keeps
 * PSIDTS fresh (its value changes and the session outlives several PSIDTS lifetimes).
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Cookie, type Page } from 'playwright-core';
import { Agent, buildConnector, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { startChromium, tempDir, type ChromiumHandle } from './support/services.ts';

const PSIDTS_TTL_MS = 3000;
let emulator: Emulator;
let chrome: ChromiumHandle;
let browser: Browser;
let agent: Agent;
let certDir: string;

beforeAll(async () => {
  emulator = await Emulator.start({
    certDir: (certDir = tempDir('ca')),
    psidtsTtlMs: PSIDTS_TTL_MS,
    rotateIntervalMs: 700,
    rotateMinIntervalMs: 300,
    chunkDelayMs: 5,
  });
  chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
  browser = await chromium.connectOverCDP(chrome.url, { timeout: 15_000 });
  const base = buildConnector({ ca: fs.readFileSync(emulator.caCertPath, 'utf8') });
  agent = new Agent({
    connect: (opts, cb) =>
      base(
        { ...opts, hostname: '127.0.0.1', port: String(emulator.port), servername: opts.hostname },
        cb,
      ),
  });
});

afterAll(async () => {
  await browser?.close();
  await chrome?.stop();
  await agent?.destroy();
  await emulator?.close();
  fs.rmSync(certDir, { recursive: true, force: true });
});

/** Whether these cookies get the signed-in /app page, asked from Node as the worker would. */
async function signedInWith(cookies: { name: string; value: string }[]): Promise<boolean> {
  const res = await fetch('https://gemini.google.com/app', {
    dispatcher: agent,
    headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
  });
  return /"SNlM0e":\s*"[^"]+"/.test(await res.text());
}

const COOKIE_URLS = ['https://gemini.google.com/app'];
const psidtsOf = (cookies: Cookie[]) => cookies.find((c) => c.name === '__Secure-1PSIDTS')?.value;

describe('emulator in Chromium', () => {
  // The person's tab stays open across the first two tests, as a Kasm desktop's would.
  let page: Page;
  let first: Cookie[] = [];
  afterAll(async () => {
    await page?.close();
  });

  it('signs in through ServiceLogin and lands on /app with .google.com cookies', async () => {
    const context = browser.contexts()[0]!;
    page = await context.newPage();
    await page.goto(
      'https://accounts.google.com/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp',
    );
    await page.fill('#identifierId', 'person@example.com');
    await Promise.all([
      page.waitForURL('https://gemini.google.com/app'),
      page.click('#identifierNext'),
    ]);
    expect(await page.locator('#account').getAttribute('data-email')).toBe('person@example.com');
    expect(await page.content()).toMatch(/"SNlM0e":\s*"[^"]+"/);

    first = await context.cookies(COOKIE_URLS);
    const psid = first.find((c) => c.name === '__Secure-1PSID');
    expect(psid).toMatchObject({ domain: '.google.com', path: '/', secure: true, httpOnly: true });
    expect(psid?.value).toMatch(/^g\.a000/);
    expect(psidtsOf(first)).toMatch(/^sidts-/);
    const names = first.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['SID', 'HSID', 'SSID', 'SAPISID']));
  });

  it('the open tab rotates PSIDTS and the session outlives several PSIDTS lifetimes', async () => {
    const context = browser.contexts()[0]!;
    const read = async () => context.cookies(COOKIE_URLS);
    await expect
      .poll(async () => psidtsOf(await read()), { timeout: 15_000 })
      .not.toBe(psidtsOf(first));
    const rotations = emulator.records().filter((r) => r.kind === 'rotate' && r.status === 200);
    expect(rotations.length).toBeGreaterThan(0);
    expect(rotations.every((r) => r.email === 'person@example.com')).toBe(true);

    await sleep(PSIDTS_TTL_MS * 2);
    expect(await signedInWith(await read())).toBe(true);
    // The first PSIDTS has expired: only rotation kept the session alive.
    expect(await signedInWith(first)).toBe(false);
  });

  it('a sign-out in the browser kills the session for every holder of its cookies', async () => {
    const context = browser.contexts()[0]!;
    const page = await context.newPage();
    try {
      await page.goto('https://gemini.google.com/app');
      const before = await context.cookies(['https://gemini.google.com/app']);
      expect(await signedInWith(before)).toBe(true);
      await page.goto('https://accounts.google.com/Logout');
      const after = await context.cookies(['https://gemini.google.com/app']);
      expect(after.find((c) => c.name === '__Secure-1PSID')).toBeUndefined();
      expect(await signedInWith(before)).toBe(false);
      await page.goto('https://gemini.google.com/app');
      expect(await page.locator('#sign-in').textContent()).toBe('Sign in');
    } finally {
      await page.close();
    }
  });
});
