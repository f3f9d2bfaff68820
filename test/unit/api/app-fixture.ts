/**
 * A real worker app on a loopback socket, behind its fast path as the worker role serves it, with
 * a test's own backend in place of the account's queue, for the route tests (Anthropic, Google)
 * and the fuzz test: keys, limits, a temp data dir and a quiet logger, with whatever a test needs
 * different passed in `deps`.
 */
import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ConversationStore,
  ImageStore,
  createWorkerHttp,
  createWorkerMetrics,
  type ChatBackend,
  type WorkerAppDeps,
} from '../../../src/api/index.ts';
import { KeyRing } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';

/** A backend that answers every turn at once with the prompt's length: for input-handling tests. */
export const echoBackend: ChatBackend = {
  async *stream(job) {
    yield { type: 'text', delta: `echo ${job.prompt.length}` };
    yield {
      type: 'done',
      result: { text: 'echo', thoughts: '', images: [], chat: null, modelName: null },
    };
  },
};

/** echoBackend, counting the turns that reach it: a refusal must reach none. */
export function countingEcho(): { readonly backend: ChatBackend; readonly turns: () => number } {
  let turns = 0;
  return {
    backend: {
      stream(job, options) {
        turns++;
        return echoBackend.stream(job, options);
      },
    },
    turns: () => turns,
  };
}

/** What a test gives the app. */
export interface WorkerAppOptions {
  /** Names the temp dir and the metrics. */
  readonly name: string;
  readonly backend: ChatBackend;
  readonly userKey: string;
  readonly adminKey?: string;
  /** Overrides of the rest (limits, status, admin, sseKeepAliveMs, anthropicModelMap…). */
  readonly deps?: Partial<WorkerAppDeps>;
  /** Serve through express alone, without the worker's fast path (the differential's baseline). */
  readonly expressOnly?: boolean;
}

/** The running app. */
export interface RunningWorkerApp {
  readonly url: string;
  /** How many requests express's app.handle saw (those the fast path did not take). */
  expressRequests(): number;
  /** The worker's /metrics text. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

/** Starts the app on 127.0.0.1 at a free port. */
export async function startWorkerApp(options: WorkerAppOptions): Promise<RunningWorkerApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gk-${options.name}-`));
  const metrics = createWorkerMetrics(options.name, () => ({
    status: 'HEALTHY',
    loginState: 'logged_in',
    currentTasks: 0,
    queueWaiting: 0,
    cooldownRemainingS: 0,
  }));
  const front = createWorkerHttp({
    keys: new KeyRing({
      apiKeys: [options.userKey],
      adminApiKeys: options.adminKey === undefined ? [] : [options.adminKey],
      apiKeysFile: null,
      adminApiKeysFile: null,
      allowNoAuth: false,
    }),
    trustProxy: false,
    limits: {
      bodyBytes: MIB,
      uploadBytes: MIB,
      promptChars: 100_000,
      imageBytes: MIB,
      imagesPerRequest: 4,
    },
    // Every name resolves to loopback, which is refused: nothing leaves the machine.
    imageFetch: { allowPrivate: false, timeoutMs: 300, resolve: async () => ['127.0.0.1'] },
    uploadsDir: path.join(dir, 'uploads'),
    inputsDir: path.join(dir, 'inputs'),
    sseKeepAliveMs: 15_000,
    logger: createLogger({ silent: true }),
    backend: options.backend,
    conversations: new ConversationStore(path.join(dir, 'conversations')),
    images: new ImageStore(path.join(dir, 'images')),
    status: { health: async () => ({}), readiness: async () => ({ ready: true, reason: null }) },
    admin: {
      refreshSession: async () => ({}),
      screenshot: async () => Buffer.alloc(0),
      resetCooldown: async () => ({}),
      setDraining: async (draining: boolean) => ({ draining }),
    },
    metrics,
    ...options.deps,
  });
  let expressRequests = 0;
  const app = front.app as unknown as { handle: (...args: unknown[]) => unknown };
  const handle = app.handle.bind(app);
  app.handle = (...args) => {
    expressRequests++;
    return handle(...args);
  };
  const server = http.createServer(options.expressOnly ? front.app : front.listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    expressRequests: () => expressRequests,
    metrics: () => metrics.registry.metrics(),
    async close() {
      server.closeAllConnections();
      server.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
}
