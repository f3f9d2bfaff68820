/**
 * A tiny HTTPS server on 127.0.0.1 (port 0) that stands in for every Google host: requests are
 * routed by Host header and path, recorded, and answered by handlers the test installs. Clients
 * reach it through host resolver rules, exactly as the worker reaches the emulator.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createTestCertificates, type TestCertificates } from './test-ca.ts';

export interface RecordedRequest {
  method: string;
  host: string;
  path: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The TLS server name the client sent. */
  servername: string | false | null;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeGoogle {
  readonly port: number;
  /** HOST_RESOLVER_RULES sending every Google host here. */
  readonly rules: string;
  readonly certs: TestCertificates;
  readonly requests: RecordedRequest[];
  /** Sockets opened so far (keep-alive checks). */
  readonly connections: () => number;
  /** Installs a handler for `METHOD host/path` (path without query). */
  on(method: string, hostPath: string, handler: Handler): void;
  /** Requests seen for `METHOD host/path`. */
  seen(method: string, hostPath: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Starts the server; unrouted requests get 404. */
export async function startFakeGoogle(certs?: TestCertificates): Promise<FakeGoogle> {
  const tls = certs ?? (await createTestCertificates());
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const key = (method: string, hostPath: string) => `${method.toUpperCase()} ${hostPath}`;
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    void handle(req, res);
  });
  server.on('secureConnection', () => {
    connections += 1;
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) {
      chunks.push(c as Buffer);
    }
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const url = new URL(req.url ?? '/', `https://${host}`);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      host,
      path: url.pathname,
      url,
      headers: req.headers,
      body: Buffer.concat(chunks),
      servername: (req.socket as TLSSocket).servername,
    };
    requests.push(rec);
    const handler = routes.get(key(rec.method, `${host}${url.pathname}`));
    if (!handler) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      await handler(rec, res);
    } catch {
      if (!res.headersSent) {
        res.writeHead(500);
      }
      res.end();
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    rules: ['*.google.com', 'google.com', '*.googleapis.com', '*.googleusercontent.com']
      .map((p) => `MAP ${p} 127.0.0.1:${port}`)
      .join(', '),
    certs: tls,
    requests,
    connections: () => connections,
    on(method, hostPath, handler) {
      routes.set(key(method, hostPath), handler);
    },
    seen(method, hostPath) {
      return requests.filter((r) => key(r.method, `${r.host}${r.path}`) === key(method, hostPath));
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The Cookie header a request carried, as a name -> value map. */
export function cookiesOf(req: RecordedRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) {
      out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
  }
  return out;
}
