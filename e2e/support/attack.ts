/**
 * Helpers for the security e2e suite: a raw HTTP sender that streams a large body without holding
 * it, while sampling this process's memory, and a loopback server that counts what reaches it.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

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
