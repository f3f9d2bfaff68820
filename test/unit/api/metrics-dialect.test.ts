/** The worker's request metrics carry the client dialect, from the path, with three values only. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import express from 'express';
import { afterAll, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../../src/api/index.ts';

const metrics = createWorkerMetrics('dialects', () => ({
  status: 'HEALTHY',
  loginState: 'logged_in',
  currentTasks: 0,
  queueWaiting: 0,
  cooldownRemainingS: 0,
}));
const app = express();
app.use(metrics.middleware);
app.post('/v1/messages', (_req, res) => res.status(200).end());
app.use((_req, res) => res.status(404).end());
const server = http.createServer(app).listen(0, '127.0.0.1');
const listening = once(server, 'listening');
afterAll(() => server.close());

it('labels each request openai, anthropic or google by its path', async () => {
  await listening;
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const path of [
    '/v1/messages',
    '/v1/messages/count_tokens?beta=true',
    '/v1beta/models/gemini-2.5-flash:generateContent?key=k',
    '/v1/chat/completions',
  ]) {
    await fetch(`${base}${path}`, { method: 'POST' });
  }
  // Counted when the response closes, which may follow the client's read.
  const values = async () =>
    ((await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gk_http_requests_total')
      ?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  for (let i = 0; i < 100 && (await values()).reduce((n, v) => n + v.value, 0) < 4; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const byDialect = (d: string) =>
    values().then((vs) =>
      vs.filter((v) => v.labels['dialect'] === d).reduce((n, v) => n + v.value, 0),
    );
  expect(await byDialect('anthropic')).toBe(2);
  expect(await byDialect('google')).toBe(1);
  expect(await byDialect('openai')).toBe(1);
});
