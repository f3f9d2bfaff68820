/**
 * The emulator in real headless Chromium: a person signs in on ServiceLogin, lands on /app signed
 * in, the .google.com cookies are readable over CDP, and the open tab's rotation iframe keeps
 * PSIDTS fresh (its value changes and the session outlives several PSIDTS lifetimes). And the
 * page transport on that Chromium: who sends, the send stages of its failures, and its tab lease.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Cookie, type Page } from 'playwright-core';
import { Agent, buildConnector, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserSession, createPageTransport, FileCookieSource } from '../src/browser/index.ts';
import { Emulator } from '../src/emulator/index.ts';
import { createHttpClient, findModel, GeminiClient, GeminiError } from '../src/gemini/index.ts';
import { createLogger } from '../src/logging.ts';
import { eventually, personSignIn } from './support/person.ts';
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

describe('the page transport in Chromium', () => {
  const email = 'page-transport@example.com';
  const logger = createLogger({ silent: true });
  let session: BrowserSession;
  let client: GeminiClient;
  const model = findModel('gemini-2.5-flash')!;
  const generations = (prompt: string) =>
    emulator.records().filter((r) => r.kind === 'generate' && r.prompt === prompt);

  beforeAll(async () => {
    await personSignIn(chrome.url, email);
    session = new BrowserSession({ cdpUrl: chrome.url, keepAliveIntervalMs: 600_000, logger });
    await session.connect();
    client = new GeminiClient({
      http: createHttpClient({ hostResolverRules: emulator.hostResolverRules() }),
      cookies: new FileCookieSource(`${tempDir('page-transport')}/cookie_cache.json`),
      logger,
      stallTimeoutMs: 10_000,
      transport: createPageTransport(session),
    });
  });
  afterAll(async () => {
    await client?.close();
    await session?.close();
  });

  async function failure(prompt: string): Promise<GeminiError> {
    const events = client.generate({ prompt, model });
    return (await (async () => {
      for await (const _ of events) {
        // drain
      }
    })().catch((err: unknown) => err)) as GeminiError;
  }

  it('sends as Chromium, signed in by its own cookies', async () => {
    const texts: string[] = [];
    for await (const ev of client.generate({ prompt: 'from the page', model })) {
      texts.push(ev.type === 'text' ? ev.delta : '');
    }
    expect(texts.join('')).toContain('from the page');
    const [record] = generations('from the page');
    expect(record?.email).toBe(email);
    expect(record?.userAgent).toMatch(/HeadlessChrome/);
  });

  it('a reset before any response is resent by Chrome itself; a cut after 200 OK never is', async () => {
    // Chrome resends a request whose reused connection died before any response byte (its
    // keep-alive race rule): the worker resends such a send too (proven not taken), so the
    // outcome is the node transport's: two upstream records, one answer.
    emulator.injectFault(email, 'reset');
    const texts: string[] = [];
    for await (const ev of client.generate({ prompt: 'reset in the page', model })) {
      texts.push(ev.type === 'text' ? ev.delta : '');
    }
    expect(texts.join('')).toContain('reset in the page');
    expect(generations('reset in the page').map((r) => r.fault ?? null)).toEqual(['reset', null]);
    emulator.injectFault(email, 'drop_before_answer');
    const cut = await failure('cut in the page');
    expect(cut).toBeInstanceOf(GeminiError);
    expect(cut.stage).toBe('after_accept');
    expect(cut.kind).toBe('transient');
    expect(generations('cut in the page')).toHaveLength(1);
  });

  it('a tab reload waits for the answer in flight; leaving the answer cancels the fetch', async () => {
    emulator.injectFault(email, 'stall');
    const events = client.generate({ prompt: 'held open', model });
    for await (const ev of events) {
      if (ev.type === 'text') {
        break; // the body stays open upstream until the fetch is cancelled
      }
    }
    await eventually(async () => generations('held open')[0]?.endedAt != null, 5_000, 50);
    // With the fetch gone the lease is free: a reload goes through at once.
    const reloaded = await session.refresh();
    expect(reloaded).toBe('logged_in');

    emulator.injectFault(email, 'stall');
    const open = client.generate({ prompt: 'open during a reload', model });
    const first = await open.next();
    expect(first.done).toBe(false);
    let reloadDone = false;
    const reload = session.refresh().then(() => (reloadDone = true));
    await sleep(500);
    expect(reloadDone).toBe(false);
    expect(generations('open during a reload')[0]?.endedAt ?? null).toBeNull();
    await open.return(undefined);
    await reload;
    expect(reloadDone).toBe(true);
  });

  it("the /app load redirected to /sorry is ip_blocked: Chrome's network events name the target", async () => {
    emulator.injectFault(email, 'sorry');
    const since = emulator.records().length;
    const err = await client.init().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GeminiError);
    expect((err as GeminiError).kind).toBe('ip_blocked');
    const apps = emulator
      .records()
      .slice(since)
      .filter((r) => r.kind === 'app');
    // The page's own fetch met the block (Chromium's user agent); the tab did not move.
    expect(apps).toMatchObject([{ fault: 'sorry', status: 302, email }]);
    expect(apps[0]?.userAgent).toMatch(/HeadlessChrome/);
    await client.init();
  });

  it('a tab that landed on /sorry is ip_blocked without a send, until it is reloaded', async () => {
    const tab = await session.holdTab();
    await tab.page.goto(
      'https://www.google.com/sorry/index?continue=https://gemini.google.com/app',
    );
    tab.release();
    const blocked = await failure('from a blocked tab');
    expect(blocked).toBeInstanceOf(GeminiError);
    expect(blocked.kind).toBe('ip_blocked');
    expect(generations('from a blocked tab')).toHaveLength(0);
    expect(await session.refresh()).toBe('logged_in');
    const texts: string[] = [];
    for await (const ev of client.generate({ prompt: 'back on the app', model })) {
      texts.push(ev.type === 'text' ? ev.delta : '');
    }
    expect(texts.join('')).toContain('back on the app');
  });
});
