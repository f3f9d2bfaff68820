/**
 * docker/healthcheck.sh against a server on 127.0.0.1 port 0: 2xx is healthy; an error status,
 * a closed port and a hung server are not.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './compose-file.ts';

const SCRIPT = path.join(REPO_ROOT, 'docker/healthcheck.sh');
let server: http.Server;
let base = '';

function check(
  url: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(SCRIPT, [url], { env: { ...process.env, ...env } }, (err, stdout) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: stdout });
    });
  });
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/hang') {
      return; // never answers
    }
    res.writeHead(req.url === '/health' ? 200 : 503).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('healthcheck.sh', () => {
  it('exits 0 on a 2xx answer', async () => {
    expect(await check(`${base}/health`)).toEqual({ code: 0, out: `${base}/health: 200\n` });
  });

  it('exits 1 on an error status', async () => {
    expect((await check(`${base}/ready`)).code).toBe(1);
  });

  it('exits 1 when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await check(`http://127.0.0.1:${port}/health`);
    expect(result).toEqual({ code: 1, out: `http://127.0.0.1:${port}/health: ECONNREFUSED\n` });
  });

  it('exits 1 when the answer does not come within HEALTHCHECK_TIMEOUT_MS', async () => {
    const result = await check(`${base}/hang`, { HEALTHCHECK_TIMEOUT_MS: '200' });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/\/hang: .*(timeout|aborted)/i);
  });
});
