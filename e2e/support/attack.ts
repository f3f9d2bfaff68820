/**
 * Helpers for the security e2e suite: a raw HTTP sender that streams a large body without holding
 * it while sampling this process's memory, a keyed request helper, and loopback servers that
 * count what reaches them (one plays the internet for image URLs).
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { Gateway } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/logging.ts';
import { createPool, migrate } from '../../src/registry/index.ts';

export interface FloodResult {
  readonly status: number;
  readonly ms: number;
  /** Bytes written before the answer came. */
  readonly writtenWhenAnswered: number;
  /** The largest rise of heap + array buffers seen while it ran. */
  readonly peakGrowthBytes: number;
}

const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** POSTs `totalBytes` of a valid JSON body in 64 KiB chunks (one reused buffer). */
export async function flood(
  url: string,
  totalBytes: number,
  headers: Record<string, string> = {},
): Promise<FloodResult> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const head = Buffer.from('{"messages":[{"role":"user","content":"');
  const tail = Buffer.from('"}]}');
  const base = used();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, used() - base)), 2);
  const started = performance.now();
  let written = 0;
  let answered = -1;
  const req = http.request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(totalBytes),
      ...headers,
    },
  });
  req.on('error', () => {});
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      answered = written;
      resolve(res);
    });
    req.once('close', () => reject(new Error('closed without an answer')));
  });
  response.catch(() => {});
  const write = async (buf: Buffer) => {
    written += buf.length;
    if (!req.write(buf)) {
      await Promise.race([once(req, 'drain'), response, once(req, 'close')]);
    }
  };
  await write(head);
  while (answered < 0 && !req.destroyed && written + chunk.length + tail.length <= totalBytes) {
    await write(chunk);
  }
  if (answered < 0 && !req.destroyed) {
    await write(Buffer.alloc(totalBytes - written - tail.length, 'a'));
    await write(tail);
    req.end();
  }
  const res = await response;
  res.resume();
  const ms = performance.now() - started;
  clearInterval(sampler);
  req.destroy();
  return { status: res.statusCode ?? 0, ms, writtenWhenAnswered: answered, peakGrowthBytes: peak };
}

export interface CountingServer {
  readonly port: number;
  hits(): number;
  close(): void;
}

/** A loopback server that counts requests and answers each with `handler`. */
export async function countingServer(handler: http.RequestListener): Promise<CountingServer> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A 1x1 PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** `Authorization: Bearer <key>`. */
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A request with an optional key; the body as text and, when it is JSON, parsed. */
export async function call(
  base: string,
  route: string,
  key: string | null,
  init: RequestInit = {},
) {
  const res = await fetch(`${base}${route}`, {
    ...init,
    headers: { ...(key ? bearer(key) : {}), ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  let json: { error?: { message: string; type: string; code: string | null } } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // Not JSON (a PNG, metrics text).
  }
  return { status: res.status, json, text, headers: res.headers };
}

/**
 * The "internet" for image URLs: /dot.png (a PNG), /redirect (to /dot.png), and /huge.png,
 * 50 MiB sent from one reused chunk with backpressure, so the test process never holds it.
 */
export async function imageServer(png: Buffer): Promise<CountingServer> {
  const MIB = 1024 * 1024;
  const server: CountingServer = await countingServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${server.port}/dot.png` }).end();
      return;
    }
    if (req.url !== '/huge.png') {
      res.end(png);
      return;
    }
    const chunk = Buffer.alloc(MIB);
    let sent = 0;
    const pump = () => {
      while (sent < 50 && !res.destroyed && res.write(chunk)) {
        sent += 1;
      }
      if (sent >= 50) {
        res.end();
      } else if (!res.destroyed) {
        res.once('drain', pump);
      }
    };
    res.writeHead(200, { 'content-type': 'image/png' });
    pump();
  });
  return server;
}

/** POST /v1/chat/completions with `key`. */
export const chat = (base: string, key: string, body: object) =>
  call(base, '/v1/chat/completions', key, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', ...body }),
  });

/** A body whose one message is the user's `content`. */
export const userSays = (content: unknown) => ({ messages: [{ role: 'user', content }] });

/** A gateway in this process over the shared registry. */
export interface InProcessGateway {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a gateway with `env` (keys) on the registry at `databaseUrl`. */
export async function startGateway(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<InProcessGateway> {
  const pool = createPool({ connectionString: databaseUrl });
  await migrate(pool);
  const config = loadConfig('gateway', { PORT: '0', DATABASE_URL: databaseUrl, ...env });
  const gateway = new Gateway(config, createLogger({ silent: true }), pool, {
    host: '127.0.0.1',
    refreshMs: 200,
  });
  const port = await gateway.listen();
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await gateway.close();
      await pool.end();
    },
  };
}
