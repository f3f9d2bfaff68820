/**
 * The operator console in real headless Chromium, against the gateway stack (two worker processes,
 * the first attached to a signed-in Chromium, the emulator, PostgreSQL): sign-in with the admin key
 * and not a user key, cards that match the registry, charts after load, a tab thumbnail, protocol
 * drift by kind, Reset
 * cooldown against an emulator 429, Drain steering requests to the other node, sign-out.
 * Screenshots at 1280 and 390 px (light and dark) go to e2e/out/.
 */
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personSignIn } from './support/person.ts';
import { startChromium, type ChromiumHandle } from './support/services.ts';
import { startGatewayStack, type GatewayStack } from './support/gateway-stack.ts';

const ADMIN = 'sk-console-e2e-admin-0123456789';
const USER = 'sk-console-e2e-user-0123456789';
const OUT = path.resolve(import.meta.dirname, 'out');
let stack: GatewayStack;
let chrome: ChromiumHandle | undefined;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let nodeA: string;
let nodeB: string;

beforeAll(async () => {
  stack = await startGatewayStack(2, {
    env: {
      API_KEYS: USER,
      ADMIN_API_KEYS: ADMIN,
      GATEWAY_VNC_URL_TEMPLATE: 'https://vnc.example.test/{account}/vnc.html',
    },
    // The first account's worker drives a real, signed-in Chromium, so it has a tab to show.
    prepareWorker: async (index, emulator, email) => {
      if (index !== 0) {
        return {};
      }
      emulator.createAccount(email);
      chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
      await personSignIn(chrome.url, email);
      return { CHROME_CDP_URL: chrome.url };
    },
  });
  nodeA = stack.workers[0]!.worker.url;
  nodeB = stack.workers[1]!.worker.url;
  // The console's own browser: a separate context in the same Chromium (no shared cookies).
  browser = await chromium.connectOverCDP(chrome!.url, { timeout: 15_000 });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  fs.mkdirSync(OUT, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
  await chrome?.stop();
});

const client = () => new OpenAI({ apiKey: USER, baseURL: `${stack.url}/v1`, maxRetries: 0 });
const ask = (content: string) =>
  client().chat.completions.create({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content }],
  });
const card = (nodeUrl: string) => page.locator(`article[data-node="${nodeUrl}"]`);
const field = (nodeUrl: string, col: string) =>
  card(nodeUrl).locator(`[data-col="${col}"]`).textContent();

async function signIn(key: string): Promise<void> {
  await page.goto(stack.url);
  await page.getByLabel('Admin key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('console access', () => {
  it('refuses a user key, and signs in with the admin key into an HttpOnly, Strict cookie', async () => {
    await signIn(USER);
    await expect.poll(() => page.locator('#sign-in-problem').textContent()).toMatch(/user key/);
    expect((await context.cookies()).find((c) => c.name === 'gk_console')).toBeUndefined();
    await signIn(ADMIN);
    await page.locator('#totals').waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'gk_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).not.toContain(ADMIN);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate('JSON.stringify(localStorage)')).toBe('{}');
  });
});

describe('live view', () => {
  it('shows one card per registry row, with the same values', async () => {
    await expect.poll(() => page.locator('article[data-node]').count()).toBe(2);
    const { rows } = await stack.pool.query<{
      node_url: string;
      account: string;
      status: string;
      login_state: string;
      weight: number;
    }>('select node_url, account, status, login_state, weight from gemini_service_nodes');
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(await field(r.node_url, 'account')).toBe(r.account);
      await expect.poll(() => field(r.node_url, 'status')).toBe(r.status);
      expect(await field(r.node_url, 'login')).toBe(r.login_state);
      expect(await field(r.node_url, 'weight')).toBe(String(r.weight));
      expect(await field(r.node_url, 'state')).toBe('eligible');
      expect(await field(r.node_url, 'drift')).toBe('none');
      expect(
        await card(r.node_url).getByRole('link', { name: 'Open VNC' }).getAttribute('href'),
      ).toBe(`https://vnc.example.test/${encodeURIComponent(r.account)}/vnc.html`);
    }
    expect(await page.locator('[data-summary="eligible"]').textContent()).toBe('2');
    expect(await page.locator('[data-summary="total"]').textContent()).toBe('2');
  });

  it('draws the charts and the figures after some load', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await ask(`load ${i}`)).choices[0]?.message.content).toBeTruthy();
    }
    await expect.poll(() => page.locator('[data-summary="rpm"]').textContent()).toBe('6');
    expect(await page.locator('[data-summary="sends"]').textContent()).toBe('6 / 6');
    for (const url of [nodeA, nodeB]) {
      await expect.poll(async () => Number(await field(url, 'rpm'))).toBeGreaterThan(0);
      expect(await field(url, 'latency')).toMatch(/^\d+ ms \/ \d+ ms$/);
      expect(await card(url).locator('.chart canvas').count()).toBe(3);
    }
    // The requests line has drawn: the chart's canvas holds coloured pixels beyond its grid.
    const inked = await page.evaluate(`(() => {
      const canvas = document.querySelector('article[data-node="${nodeA}"] .chart canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        n += data[i + 3] > 0 && data[i + 2] > data[i] + 60 ? 1 : 0;
      }
      return n;
    })()`);
    expect(inked).toBeGreaterThan(5);
  });

  it("loads a thumbnail of the signed-in account's tab, its alt text naming the account", async () => {
    const account = (await field(nodeA, 'account')) ?? '';
    const img = card(nodeA).locator('.thumb img');
    const naturalWidth = `document.querySelector('article[data-node="${nodeA}"] .thumb img').naturalWidth`;
    await expect.poll(() => page.evaluate(naturalWidth), { timeout: 20_000 }).toBeGreaterThan(100);
    expect(await img.getAttribute('alt')).toContain(account);
    // The other worker has no browser: it says so instead of a broken image.
    await expect
      .poll(() => card(nodeB).locator('.thumb-status').textContent())
      .toMatch(/No screenshot/);
  });
});

describe('protocol drift', () => {
  it('shows the drift a worker counted, by kind, on its card only', async () => {
    stack.emulator.injectFault(stack.workers[1]!.email, 'unknown_shape');
    const res = await fetch(`${nodeB}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'an answer in a shape nobody knows' }],
      }),
    });
    expect(res.status).toBe(502);
    // Counted by the worker, written to the registry at its next heartbeat, drawn at the next poll.
    await expect
      .poll(() => field(nodeB, 'drift'), { timeout: 10_000 })
      .toBe('candidate_shape 1, envelope_unknown 1');
    const { rows } = await stack.pool.query<{ protocol_drift: Record<string, number> }>(
      'select protocol_drift from gemini_service_nodes where node_url = $1',
      [nodeB],
    );
    expect(rows[0]?.protocol_drift).toMatchObject({ candidate_shape: 1, envelope_unknown: 1 });
    expect(await field(nodeA, 'drift')).toBe('none');
  });
});

describe('actions', () => {
  it('Refresh session reloads the tab and shows the login state the worker read', async () => {
    await card(nodeA).getByRole('button', { name: 'Refresh session' }).click();
    await expect
      .poll(() => card(nodeA).locator('.outcome').textContent(), { timeout: 20_000 })
      .toMatch(/Session refreshed: login state logged_in\./);
    expect(await field(nodeA, 'login')).toBe('logged_in');
  });

  it('Reset cooldown clears a cooldown the emulator caused', async () => {
    const emailB = stack.workers[1]!.email;
    stack.emulator.injectFault(emailB, 'usage_limit', { times: Infinity });
    // Requests spread over both nodes; B's 429 fails over to A, so every client gets its answer.
    for (let i = 0; i < 6 && (await field(nodeB, 'state')) !== 'cooling'; i++) {
      await ask(`cool B ${i}`);
      await page.waitForTimeout(300);
    }
    await expect.poll(() => field(nodeB, 'state'), { timeout: 10_000 }).toBe('cooling');
    expect(await field(nodeB, 'cooldown')).toMatch(/^\d+ m \d\d s \(.+\)$|^\d+ h \d\d m \(.+\)$/);
    expect(await field(nodeB, 'last-error')).toMatch(/429|usage/i);
    expect(await page.locator('[data-summary="failed-over"]').textContent()).not.toBe('-');
    stack.emulator.clearFaults(emailB);
    await card(nodeB).getByRole('button', { name: 'Reset cooldown' }).click();
    await expect
      .poll(() => card(nodeB).locator('.outcome').textContent())
      .toMatch(/Cooldown reset/);
    // Reflected within 2 s of the action's answer: the worker wrote the registry before answering.
    await expect.poll(() => field(nodeB, 'state'), { timeout: 2_000 }).toBe('eligible');
    expect(await field(nodeB, 'cooldown')).toBe('-');
  });

  it('Drain keeps the gateway off that node while requests go on to the other; Undrain reverses it', async () => {
    await card(nodeA).getByRole('button', { name: 'Drain' }).click();
    // It asks first, in the card; nothing changed yet.
    await expect.poll(() => card(nodeA).locator('.outcome').textContent()).toMatch(/Confirm drain/);
    expect(await field(nodeA, 'state')).toBe('eligible');
    await card(nodeA).getByRole('button', { name: 'Confirm drain' }).click();
    await expect.poll(() => card(nodeA).locator('.outcome').textContent()).toMatch(/Draining/);
    await expect.poll(() => field(nodeA, 'state'), { timeout: 2_000 }).toBe('draining');
    const { rows } = await stack.pool.query<{ draining: boolean }>(
      'select draining from gemini_service_nodes where node_url = $1',
      [nodeA],
    );
    expect(rows[0]?.draining).toBe(true);
    const direct = await fetch(`${nodeA}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(direct.status).toBe(503);
    expect(((await direct.json()) as { error: { code: string } }).error.code).toBe('node_draining');
    stack.emulator.clearRecords();
    for (let i = 0; i < 4; i++) {
      expect((await ask(`while A drains ${i}`)).choices[0]?.message.content).toBeTruthy();
    }
    const generated = stack.emulator.records().filter((r) => r.kind === 'generate');
    expect(generated).toHaveLength(4);
    expect(generated.every((r) => r.email === stack.workers[1]!.email.toLowerCase())).toBe(true);
    await card(nodeA).getByRole('button', { name: 'Undrain' }).click();
    await expect.poll(() => field(nodeA, 'state'), { timeout: 2_000 }).toBe('eligible');
  });

  it('screenshots at 1280 and 390 px, light and dark', async () => {
    await page.screenshot({ path: path.join(OUT, 'console-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    // Nothing wider than the window: no sideways scrolling at 390 px.
    const overflow = await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUT, 'console-390.png'), fullPage: true });
    const background = () => page.evaluate('getComputedStyle(document.body).backgroundColor');
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    // The dark scheme is a real change of palette, not the same page twice.
    expect(await background()).not.toBe(light);
    await page.screenshot({ path: path.join(OUT, 'console-390-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
    for (const name of ['console-1280.png', 'console-390.png', 'console-390-dark.png']) {
      expect(fs.statSync(path.join(OUT, name)).size).toBeGreaterThan(10_000);
    }
  });

  it('signs out: the cookie is gone and the old session is refused', async () => {
    const old = (await context.cookies()).find((c) => c.name === 'gk_console')!.value;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'gk_console')).toBeUndefined();
    const replay = await fetch(`${stack.url}/console/state`, {
      headers: { cookie: `gk_console=${old}` },
    });
    expect(replay.status).toBe(401);
  });
});
