/**
 * A real worker app on a loopback socket with a scripted backend in place of the account's
 * queue, for the Anthropic route tests: each request takes the next script, and every job the
 * routes sent is kept (prompt, and the Gemini chat it continued).
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import {
  ConversationStore,
  ImageStore,
  createWorkerApp,
  createWorkerMetrics,
  type ChatBackend,
  type ChatJob,
} from '../../../../src/api/index.ts';
import type { ChatMetadata, GenerateEvent } from '../../../../src/gemini/index.ts';
import { KeyRing } from '../../../../src/http/index.ts';
import { createLogger } from '../../../../src/logging.ts';

/** What one request's upstream does: yields events (without `done`), or throws. */
export type Script = (job: ChatJob) => AsyncGenerator<GenerateEvent, void>;

/** The running app. */
export interface ScriptedApp {
  readonly url: string;
  readonly jobs: ChatJob[];
  /** The Gemini chat each answer returned, in order (what a continued turn must send). */
  readonly chats: ChatMetadata[];
  /** Queues the upstream behaviour of the next requests, in order. */
  script(...scripts: Script[]): void;
  client(): Anthropic;
  /** A raw POST with the key and anthropic-version, for what the SDK hides (headers, SSE). */
  post(path: string, body: unknown): Promise<Response>;
  /** The worker's /metrics text. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export const KEY = 'sk-anthropic-route-test-0001';

/** A script answering `text` in chunks of `size`, after `thoughts`. */
export function answering(text: string, thoughts = '', size = 7): Script {
  return async function* () {
    if (thoughts !== '') {
      yield { type: 'thought', delta: thoughts };
    }
    for (const chunk of text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? []) {
      yield { type: 'text', delta: chunk };
    }
  };
}

/** Starts the app; `keepAliveMs` is the silence before a ping. */
export async function startScriptedApp(keepAliveMs = 15_000): Promise<ScriptedApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-anthropic-'));
  const scripts: Script[] = [];
  const jobs: ChatJob[] = [];
  const chats: ChatMetadata[] = [];
  const backend: ChatBackend = {
    async *stream(job) {
      jobs.push(job);
      const script = scripts.shift() ?? answering('Hello.');
      let text = '';
      for await (const event of script(job)) {
        text += event.type === 'text' ? event.delta : '';
        yield event;
      }
      const chat = { cid: `c_${jobs.length}`, rid: `r_${jobs.length}`, rcid: `rc_${jobs.length}` };
      chats.push(chat);
      yield { type: 'done', result: { text, thoughts: '', images: [], chat, modelName: null } };
    },
  };
  const metrics = createWorkerMetrics('anthropic-test', () => ({
    status: 'HEALTHY',
    loginState: 'logged_in',
    currentTasks: 0,
    queueWaiting: 0,
    cooldownRemainingS: 0,
  }));
  const app = createWorkerApp({
    keys: new KeyRing({
      apiKeys: [KEY],
      adminApiKeys: [],
      apiKeysFile: null,
      adminApiKeysFile: null,
      allowNoAuth: false,
    }),
    trustProxy: false,
    limits: {
      bodyBytes: 1024 * 1024,
      uploadBytes: 1024 * 1024,
      promptChars: 100_000,
      imageBytes: 1024 * 1024,
      imagesPerRequest: 4,
    },
    imageFetch: { allowPrivate: false, timeoutMs: 300, resolve: async () => ['127.0.0.1'] },
    uploadsDir: path.join(dir, 'uploads'),
    inputsDir: path.join(dir, 'inputs'),
    sseKeepAliveMs: keepAliveMs,
    logger: createLogger({ silent: true }),
    backend,
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
    anthropicModelMap: {
      'claude-*haiku*': 'gemini-3-flash',
      'claude-*': 'gemini-3-flash-thinking',
    },
  });
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jobs,
    chats,
    script: (...more) => scripts.push(...more),
    client: () => new Anthropic({ apiKey: KEY, baseURL: url, maxRetries: 0 }),
    metrics: () => metrics.registry.metrics(),
    post: (to, body) =>
      fetch(`${url}${to}`, {
        method: 'POST',
        headers: {
          'x-api-key': KEY,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify(body),
      }),
    async close() {
      server.closeAllConnections();
      server.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
}
