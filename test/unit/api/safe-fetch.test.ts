/**
 * The image URL fetch against real local servers. The address policy is narrowed to 127.0.0.1 so
 * that "allowed" and "refused" both exist on one machine; the real policy has its own table test.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchImageUrl, type SafeFetchOptions } from '../../../src/api/safe-fetch.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
});

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

const onlyLoopbackOne = (a: string) => a === '127.0.0.1';
const opts = (extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions => ({
  maxBytes: 1024 * 1024,
  timeoutMs: 2000,
  allowPrivate: false,
  allowAddress: onlyLoopbackOne,
  ...extra,
});

describe('fetchImageUrl', () => {
  it('fetches from an allowed address, pinned to the address the name resolved to', async () => {
    let host = '';
    const port = await serve((req, res) => {
      host = req.headers.host ?? '';
      res.end(PNG);
    });
    const resolve = async () => ['127.0.0.1'];
    const data = await fetchImageUrl(`http://images.example:${port}/a.png`, opts({ resolve }));
    expect(data.equals(PNG)).toBe(true);
    // The URL's own name goes in Host; only the connection is pinned.
    expect(host).toBe(`images.example:${port}`);
  });

  it.each(['ftp://127.0.0.1/x.png', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'not a url'])(
    'refuses %s',
    async (url) => {
      await expect(fetchImageUrl(url, opts())).rejects.toMatchObject({
        status: 400,
        message: 'image URL not allowed',
      });
    },
  );

  it('refuses a name when any of its addresses is refused (the real policy)', async () => {
    const resolve = async () => ['8.8.8.8', '127.0.0.1'];
    await expect(
      fetchImageUrl('http://mixed.example/x.png', opts({ resolve, allowAddress: undefined })),
    ).rejects.toMatchObject({ message: 'image URL not allowed' });
  });

  it('checks every redirect, and allows at most 3', async () => {
    let hops = 0;
    const port = await serve((req, res) => {
      hops += 1;
      const n = Number(req.url?.slice(1) ?? 0);
      if (req.url === '/inside') {
        res.writeHead(302, { location: `http://127.0.0.2:${port}/x.png` }).end();
      } else if (n > 0) {
        res.writeHead(302, { location: `/${n - 1}` }).end();
      } else {
        res.end(PNG);
      }
    });
    await expect(fetchImageUrl(`http://127.0.0.1:${port}/inside`, opts())).rejects.toMatchObject({
      message: 'image URL not allowed',
    });
    expect((await fetchImageUrl(`http://127.0.0.1:${port}/3`, opts())).equals(PNG)).toBe(true);
    hops = 0;
    await expect(fetchImageUrl(`http://127.0.0.1:${port}/4`, opts())).rejects.toMatchObject({
      message: 'image URL not allowed',
    });
    expect(hops).toBe(4);
  });

  it('stops reading at the size cap, declared or not', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024);
    const port = await serve((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      }
      const pump = () => {
        while (written < 50 * 1024 * 1024 && res.write(chunk)) {
          written += chunk.length;
        }
        if (written < 50 * 1024 * 1024 && !res.destroyed) {
          res.once('drain', pump);
        }
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    for (const path of ['/declared', '/chunked']) {
      written = 0;
      await expect(
        fetchImageUrl(`http://127.0.0.1:${port}${path}`, opts({ maxBytes: 256 * 1024 })),
      ).rejects.toMatchObject({ status: 413, message: 'image too large' });
    }
    expect(written).toBeLessThan(20 * 1024 * 1024);
  });

  it('a closed port, a silent server and an HTTP error all read the same', async () => {
    const closed = await serve(() => {});
    servers.pop()?.close();
    const silentPort = await serve(() => {});
    const errorPort = await serve((_req, res) => res.writeHead(500).end());
    const started = performance.now();
    const results = await Promise.all(
      [
        `http://127.0.0.1:${closed}/x`,
        `http://127.0.0.1:${silentPort}/x`,
        `http://127.0.0.1:${errorPort}/x`,
      ].map((url) =>
        fetchImageUrl(url, opts({ timeoutMs: 500 })).then(
          () => null,
          (err: Error & { status?: number }) => `${err.status} ${err.message}`,
        ),
      ),
    );
    expect(results).toEqual(Array(3).fill('400 could not fetch the image URL'));
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a resolver that never answers is bounded by the timeout', async () => {
    const resolve = () => new Promise<string[]>(() => {});
    await expect(
      fetchImageUrl('http://slow.example/x.png', opts({ resolve, timeoutMs: 200 })),
    ).rejects.toMatchObject({ message: 'could not fetch the image URL' });
  });

  it('allowPrivate reaches loopback (tests and trusted setups); without it, refused', async () => {
    const port = await serve((_req, res) => res.end(PNG));
    const real = opts({ allowAddress: undefined });
    const data = await fetchImageUrl(`http://127.0.0.1:${port}/x.png`, {
      ...real,
      allowPrivate: true,
    });
    expect(data.equals(PNG)).toBe(true);
    for (const url of [`http://127.0.0.1:${port}/x.png`, `http://[::ffff:127.0.0.1]:${port}/x`]) {
      await expect(fetchImageUrl(url, real)).rejects.toMatchObject({
        message: 'image URL not allowed',
      });
    }
  });
});
