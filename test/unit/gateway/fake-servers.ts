/**
 * Fake worker servers on 127.0.0.1 port 0, a gateway app on port 0 in front of them, and the
 * requests tests send it. Everything started through a scope is closed after each test.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Agent } from 'undici';
import { afterEach } from 'vitest';
import { createLogger } from '../../../src/logging.ts';
import { KeyRing } from '../../../src/http/index.ts';
import {
  createGatewayHandlers,
  createGatewayMetrics,
  createGatewayServer,
  createInFlight,
  type GatewayMetrics,
  type InFlight,
  type NodeRecord,
  type RegistrySnapshot,
} from '../../../src/gateway/index.ts';
import { MemoryBindings, completion } from './helpers.ts';

/** One request a fake worker received. */
export interface SeenRequest {
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Resolves when the gateway's connection for this request closed before the response ended. */
  readonly aborted: Promise<void>;
}

/** A fake worker: `handle` answers each request; `seen` lists them. */
export interface FakeWorker {
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a fake worker on 127.0.0.1:0. */
export async function startWorker(
  handle: (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: string,
  ) => void | Promise<void>,
): Promise<FakeWorker> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const aborted = new Promise<void>((resolve) => {
        res.once('close', () => {
          if (!res.writableFinished) {
            resolve();
          }
        });
      });
      seen.push({ body, headers: req.headers, aborted });
      void handle(req, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A URL on which nothing listens (a port opened, then closed). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A gateway app on 127.0.0.1:0 over in-memory nodes and bindings. */
export interface TestGateway {
  readonly url: string;
  readonly bindings: MemoryBindings;
  readonly metrics: GatewayMetrics;
  readonly inFlight: InFlight;
  /** The URLs of the requests the fast path took (the others went to express). */
  readonly fastTaken: string[];
  /** With `expressBeside`: the same gateway's express app alone, on its own port. */
  readonly expressUrl: string | null;
  /** Replace the registry rows the gateway sees. */
  setNodes(nodes: readonly NodeRecord[]): void;
  /** Replace the whole registry snapshot (a failing or expired table). */
  setSnapshot(snapshot: RegistrySnapshot): void;
  close(): Promise<void>;
}

/** Options of startGateway. */
export interface TestGatewayOptions {
  readonly maxAttempts?: number;
  readonly apiKeys?: readonly string[];
  readonly adminApiKeys?: readonly string[];
  readonly bindings?: MemoryBindings;
  readonly bodyLimitBytes?: number;
  /** Also serve the express app alone (expressUrl), to compare it with the whole listener. */
  readonly expressBeside?: boolean;
}

/** Starts a gateway app over `nodes`. */
export async function startGateway(
  nodes: readonly NodeRecord[],
  opts: TestGatewayOptions = {},
): Promise<TestGateway> {
  let snapshot: RegistrySnapshot = { nodes, fetchedAtMs: Date.now(), error: null };
  const provider = { snapshot: () => snapshot };
  const bindings = opts.bindings ?? new MemoryBindings();
  const inFlight = createInFlight();
  const nodeFreshMs = 15_000;
  const metrics = createGatewayMetrics({
    nodes: provider,
    nodeFreshMs,
    inFlight: () => inFlight.counts(),
    now: Date.now,
  });
  const agent = new Agent({ connect: { timeout: 2000 } });
  const keys = new KeyRing({
    apiKeys: opts.apiKeys ?? [],
    adminApiKeys: opts.adminApiKeys ?? [],
    apiKeysFile: null,
    adminApiKeysFile: null,
    allowNoAuth: true,
  });
  const handlers = createGatewayHandlers({
    nodes: provider,
    bindings,
    logger: createLogger({ silent: true }),
    dispatcher: agent,
    keys,
    gateway: { nodeFreshMs, maxAttempts: opts.maxAttempts ?? 3 },
    bodyLimitBytes: opts.bodyLimitBytes ?? 1024 * 1024,
    inFlight,
    metrics,
  });
  const fastTaken: string[] = [];
  // createGatewayApp's listener, noting what the fast path took.
  const combined: http.RequestListener = (req, res) => {
    if (handlers.fastPath(req, res)) {
      fastTaken.push(req.url ?? '');
      return;
    }
    handlers.express(req, res);
  };
  const server = await listenLocal(createGatewayServer(combined, keys));
  const expressAlone = opts.expressBeside
    ? await listenLocal(http.createServer(handlers.express))
    : null;
  return {
    url: urlOf(server),
    fastTaken,
    expressUrl: expressAlone && urlOf(expressAlone),
    bindings,
    metrics,
    inFlight,
    setNodes(next) {
      snapshot = { nodes: next, fetchedAtMs: Date.now(), error: null };
    },
    setSnapshot(next) {
      snapshot = next;
    },
    async close() {
      for (const s of expressAlone ? [server, expressAlone] : [server]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await agent.destroy();
    },
  };
}

async function listenLocal(server: http.Server): Promise<http.Server> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const urlOf = (server: http.Server): string =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** Starts workers and gateways that are closed after each test of the calling file. */
export function serverScope(): {
  worker: typeof startWorker;
  gateway: typeof startGateway;
} {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) {
      await c();
    }
  });
  return {
    async worker(handle) {
      const w = await startWorker(handle);
      cleanups.push(() => w.close());
      return w;
    },
    async gateway(nodes, opts) {
      const g = await startGateway(nodes, opts);
      cleanups.push(() => g.close());
      return g;
    },
  };
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A worker handler answering `text` as a chat completion JSON. */
export const answerJson =
  (text: string, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(completion(text));
  };

/**
 * A worker handler answering an OpenAI error with `status` (and Retry-After if given), saying
 * `x-upstream-sent: <upstreamSent>` unless that is undefined (a worker from before the header).
 */
export const errorJson =
  (status: number, message: string, retryAfterS?: number, upstreamSent?: boolean): Handler =>
  (_req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (retryAfterS !== undefined) {
      headers['retry-after'] = String(retryAfterS);
    }
    if (upstreamSent !== undefined) {
      headers['x-upstream-sent'] = String(upstreamSent);
      if (upstreamSent) {
        headers['x-should-retry'] = 'false';
      }
    }
    const body = { error: { message, type: 'rate_limit_error', param: null, code: `e${status}` } };
    res.writeHead(status, headers).end(JSON.stringify(body));
  };

/** POST /v1/chat/completions with fetch. */
export const post = (g: TestGateway, body: string, headers: Record<string, string> = {}) =>
  fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

/** A raw POST: the response as node gives it, so a test reads (or stalls) chunk by chunk. */
export function postRaw(
  g: TestGateway,
  body: string,
): { req: http.ClientRequest; res: Promise<http.IncomingMessage> } {
  const req = http.request(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  const res = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  req.end(body);
  return { req, res };
}
