import http from 'node:http';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { Gateway } from '../../../src/gateway/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { serverScope } from './fake-servers.ts';
import { chatBody, sseChunk } from './helpers.ts';

/** A pool whose registry holds `nodeRows` and whose binding writes succeed. */
function fakePool(nodeRows: object[] = []): { pool: pg.Pool; queries: string[] } {
  const queries: string[] = [];
  const pool = {
    query: async (sql: string) => {
      queries.push(sql);
      return sql.includes('from gemini_service_nodes')
        ? { rows: nodeRows, rowCount: nodeRows.length }
        : { rows: [], rowCount: 0 };
    },
  } as unknown as pg.Pool;
  return { pool, queries };
}

const config = loadConfig('gateway', { PORT: '0', API_KEYS: 'sk-lifecycle-key' });
const logger = createLogger({ silent: true });
const scope = serverScope();

describe('Gateway lifecycle', () => {
  it('reads the registry, listens, serves, and closes once however often asked', async () => {
    const { pool, queries } = fakePool();
    const gateway = new Gateway(config, logger, pool, { host: '127.0.0.1', closeGraceMs: 200 });
    expect(gateway.port).toBeNull();
    const port = await gateway.listen();
    expect(port).toBeGreaterThan(0);
    expect(queries.some((q) => q.includes('from gemini_service_nodes'))).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(((await health.json()) as { total: number }).total).toBe(0);
    const unauthorized = await fetch(`http://127.0.0.1:${port}/v1/models`);
    expect(unauthorized.status).toBe(401);
    const first = gateway.close();
    expect(gateway.close()).toBe(first);
    await first;
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await expect(gateway.listen()).rejects.toThrow('closed');
  });

  it('refuses to start without a key unless ALLOW_NO_AUTH=1', async () => {
    const { pool } = fakePool();
    const bare = new Gateway(loadConfig('gateway', { PORT: '0' }), logger, pool, {
      host: '127.0.0.1',
    });
    await expect(bare.listen()).rejects.toThrow(/No API key is configured/);
    await bare.close();
  });

  it('cuts an answer still running once the grace period is over', async () => {
    const worker = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseChunk('first'));
    });
    const row = {
      node_url: worker.url,
      worker_id: 'w',
      account: 'a',
      weight: 1,
      status: 'HEALTHY',
      login_state: 'logged_in',
      current_tasks: 0,
      heartbeat_age_ms: 100,
      models: [],
    };
    const { pool } = fakePool([row]);
    const open = loadConfig('gateway', { PORT: '0', ALLOW_NO_AUTH: '1' });
    const gateway = new Gateway(open, logger, pool, { host: '127.0.0.1', closeGraceMs: 100 });
    const port = await gateway.listen();
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({
        port,
        host: '127.0.0.1',
        path: '/v1/chat/completions',
        method: 'POST',
      });
      req
        .on('response', resolve)
        .on('error', reject)
        .end(chatBody({ stream: true }));
    });
    await new Promise((resolve) => response.once('data', resolve));
    const ended = new Promise<boolean>((resolve) => {
      response.once('end', () => resolve(true));
      response.once('close', () => resolve(response.complete));
    });
    await gateway.close();
    expect(await ended).toBe(false);
    await worker.seen[0]?.aborted;
  });

  it('closes cleanly without ever listening', async () => {
    const gateway = new Gateway(config, logger, fakePool().pool);
    await gateway.close();
  });
});
