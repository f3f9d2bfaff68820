import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchCdpVersion } from '../../../src/browser/cdp-endpoint.ts';

let server: http.Server | null = null;

async function serve(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

describe('fetchCdpVersion', () => {
  it('reads the browser and the WebSocket URL from /json/version', async () => {
    const paths: string[] = [];
    const url = await serve((req, res) => {
      paths.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          Browser: 'Chrome/156',
          'Protocol-Version': '1.3',
          webSocketDebuggerUrl: 'ws://127.0.0.1:1/devtools/browser/abc',
        }),
      );
    });
    await expect(fetchCdpVersion(url, 1000)).resolves.toEqual({
      browser: 'Chrome/156',
      webSocketDebuggerUrl: 'ws://127.0.0.1:1/devtools/browser/abc',
    });
    expect(paths).toEqual(['/json/version']);
  });

  it('polls a ws:// endpoint over http', async () => {
    const url = await serve((_req, res) =>
      res.end(JSON.stringify({ browser: 'b', webSocketDebuggerUrl: 'ws://x' })),
    );
    const wsUrl = url.replace('http:', 'ws:') + '/devtools/browser/old-guid';
    await expect(fetchCdpVersion(wsUrl, 1000)).resolves.toMatchObject({
      webSocketDebuggerUrl: 'ws://x',
    });
  });

  it('fails on an error status', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 500;
      res.end('Host header is specified and is not an IP address or localhost.');
    });
    await expect(fetchCdpVersion(url, 1000)).rejects.toThrow('HTTP 500');
  });

  it('fails without a WebSocket URL', async () => {
    const url = await serve((_req, res) => res.end('{}'));
    await expect(fetchCdpVersion(url, 1000)).rejects.toThrow('webSocketDebuggerUrl');
  });

  it('fails within its timeout when Chrome hangs', async () => {
    const url = await serve(() => undefined);
    await expect(fetchCdpVersion(url, 100)).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('fails fast when nothing listens', async () => {
    const url = await serve((_req, res) => res.end());
    server?.close();
    // Refused at once, not after the 2 s timeout.
    await expect(fetchCdpVersion(url, 2000)).rejects.toMatchObject({
      cause: { code: 'ECONNREFUSED' },
    });
  });
});
