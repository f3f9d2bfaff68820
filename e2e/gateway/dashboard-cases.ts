/**
 * The operator console in real headless Chromium, from e2e/gateway.test.ts: a gateway over rows
 * put straight into the registry, and one worker that holds its answer until told, so the
 * console shows what the registry holds and follows it (and a request in flight) without a
 * reload; HTML in a worker_id is shown as text and never runs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { Gateway } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/logging.ts';
import { startChromium, type ChromiumHandle } from '../support/services.ts';
import { insertNode } from './registry.ts';

const logger = createLogger({ silent: true });
const DASHBOARD_USER = 'sk-dashboard-user-1234';
const DASHBOARD_ADMIN = 'sk-dashboard-admin-1234';

/** Defines the cases; `pool()` is the suite's migrated database of its own. */
export function dashboardCases(pool: () => pg.Pool): void {
  describe('status dashboard in headless Chromium', () => {
    let chrome: ChromiumHandle;
    let browser: Browser;
    let page: Page;
    let gateway: Gateway;
    let gatewayUrl: string;
    let worker: http.Server;
    let workerUrl: string;
    let releaseWorker: (() => void) | null = null;

    beforeAll(async () => {
      // A worker that holds its answer until told, so the dashboard can show a request in flight.
      worker = http.createServer((req, res) => {
        req.resume();
        releaseWorker = () => {
          releaseWorker = null;
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[]}');
        };
      });
      worker.listen(0, '127.0.0.1');
      await once(worker, 'listening');
      workerUrl = `http://127.0.0.1:${(worker.address() as AddressInfo).port}`;
      await insertNode(pool(), {
        node_url: workerUrl,
        worker_id: 'worker-a',
        account: 'alice@example.com',
        weight: 1.5,
        current_tasks: 2,
      });
      await insertNode(pool(), {
        node_url: 'http://10.9.0.2:8000',
        worker_id: 'worker-b',
        account: 'bob@example.com',
        status: '429_LIMIT',
        cooldown_s: 600,
        cooldown_reason: 'quota',
      });
      await insertNode(pool(), {
        node_url: 'http://10.9.0.3:8000',
        worker_id: 'worker-c',
        heartbeat_age_s: 90,
      });
      await insertNode(pool(), {
        node_url: 'http://10.9.0.4:8000',
        worker_id: '<img src=x onerror="window.__pwned=1">',
        login_state: 'login_required',
      });
      const config = loadConfig('gateway', {
        PORT: '0',
        DATABASE_URL: 'postgresql://unused@127.0.0.1/unused',
        API_KEYS: DASHBOARD_USER,
        ADMIN_API_KEYS: DASHBOARD_ADMIN,
      });
      gateway = new Gateway(config, logger, pool(), {
        host: '127.0.0.1',
        refreshMs: 200,
        closeGraceMs: 500,
      });
      gatewayUrl = `http://127.0.0.1:${await gateway.listen()}`;
      chrome = await startChromium();
      browser = await chromium.connectOverCDP(chrome.url, { timeout: 15_000 });
      page = await (browser.contexts()[0] ?? (await browser.newContext())).newPage();
      // The console wants an admin key: HTTP Basic (any user name) signs in as well as its form.
      await page.setExtraHTTPHeaders({
        authorization: `Basic ${Buffer.from(`admin:${DASHBOARD_ADMIN}`).toString('base64')}`,
      });
    });

    afterAll(async () => {
      releaseWorker?.();
      await browser?.close();
      await chrome?.stop();
      await gateway?.close();
      worker?.closeAllConnections();
      await new Promise<void>((resolve) => (worker ? worker.close(() => resolve()) : resolve()));
    });

    const cell = (nodeUrl: string, col: string) =>
      page.locator(`article[data-node="${nodeUrl}"] [data-col="${col}"]`).textContent();

    it('shows what the registry holds', async () => {
      await page.goto(gatewayUrl);
      const { rows } = await pool().query<{
        node_url: string;
        status: string;
        login_state: string;
        weight: number;
        account: string;
        current_tasks: number;
      }>(
        'select node_url, status, login_state, weight, account, current_tasks from gemini_service_nodes',
      );
      expect(rows).toHaveLength(4);
      // The console fills its cards from its first poll.
      await expect.poll(() => page.locator('article[data-node]').count()).toBe(4);
      for (const r of rows) {
        expect(await cell(r.node_url, 'status')).toBe(r.status);
        expect(await cell(r.node_url, 'login')).toBe(r.login_state);
        expect(await cell(r.node_url, 'weight')).toBe(String(r.weight));
        expect(await cell(r.node_url, 'account')).toBe(r.account);
        expect(await cell(r.node_url, 'current-tasks')).toBe(String(r.current_tasks));
        expect(await cell(r.node_url, 'in-flight')).toBe('0');
      }
      expect(await cell(workerUrl, 'state')).toBe('eligible');
      expect(await cell('http://10.9.0.2:8000', 'state')).toBe('cooling');
      expect(await cell('http://10.9.0.2:8000', 'cooldown')).toMatch(/^(9|10) m \d\d s \(quota\)$/);
      expect(await cell('http://10.9.0.3:8000', 'state')).toBe('stale');
      expect(await cell('http://10.9.0.3:8000', 'heartbeat')).toMatch(/^1 m [3-5]\d s ago$/);
      expect(await cell('http://10.9.0.4:8000', 'state')).toBe('login_required');
      expect(await page.locator('[data-summary="eligible"]').textContent()).toBe('1');
      expect(await page.locator('[data-summary="total"]').textContent()).toBe('4');
      // A worker_id full of HTML is shown as text, and never runs.
      expect(
        await page
          .locator('article[data-node="http://10.9.0.4:8000"] [data-col="node"]')
          .textContent(),
      ).toContain('<img src=x onerror="window.__pwned=1">');
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
    });

    it('follows the registry and in-flight requests without a reload', async () => {
      await page.goto(gatewayUrl);
      await page.evaluate('window.__samePage = true');
      await expect.poll(() => page.locator('article[data-node]').count()).toBe(4);
      await pool().query(
        `update gemini_service_nodes set status = 'HEALTHY', cooldown_until = null, cooldown_reason = null,
           current_tasks = 7, last_heartbeat = now() where node_url = 'http://10.9.0.2:8000'`,
      );
      await expect
        .poll(() => cell('http://10.9.0.2:8000', 'state'), { timeout: 10_000 })
        .toBe('eligible');
      expect(await cell('http://10.9.0.2:8000', 'status')).toBe('HEALTHY');
      expect(await cell('http://10.9.0.2:8000', 'cooldown')).toBe('-');
      expect(await cell('http://10.9.0.2:8000', 'current-tasks')).toBe('7');
      expect(await page.locator('[data-summary="eligible"]').textContent()).toBe('2');

      // Keep the 10.9.0.2 node out of the way: the request must land on the holding worker.
      await pool().query(
        `update gemini_service_nodes set weight = 0 where node_url = 'http://10.9.0.2:8000'`,
      );
      await expect
        .poll(() => cell('http://10.9.0.2:8000', 'state'), { timeout: 10_000 })
        .toBe('drained');
      const answer = fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DASHBOARD_USER}` },
        body: JSON.stringify({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      await expect.poll(() => cell(workerUrl, 'in-flight'), { timeout: 10_000 }).toBe('1');
      releaseWorker?.();
      expect((await answer).status).toBe(200);
      await expect.poll(() => cell(workerUrl, 'in-flight'), { timeout: 10_000 }).toBe('0');
      expect(await page.evaluate('window.__samePage')).toBe(true);
    });
  });
}
