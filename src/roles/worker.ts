/**
 * The worker role: wires the browser (or cookie_cache.json), the Gemini client, the account
 * state, the queue, the registry heartbeat and the HTTP app for one Google account.
 */
import { Redis } from 'ioredis';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountState, runGuarded } from '../account/index.ts';
import {
  ConversationStore,
  ImageStore,
  createWorkerApp,
  type AdminActions,
  type ChatBackend,
  type StatusSource,
} from '../api/index.ts';
import { createBrowserCookies } from '../browser/index.ts';
import type { Config } from '../config.ts';
import { ServiceUnavailableError } from '../errors.ts';
import { GeminiClient, createHttpClient } from '../gemini/index.ts';
import { childLogger, type Logger } from '../logging.ts';
import { workerMetrics, workerStatus } from './worker-status.ts';

export interface RunningService {
  readonly url: string;
  readonly port: number;
  /** Stops serving and releases everything; idempotent. */
  close(): Promise<void>;
}

/** Gives Redis a moment to connect so the first reads see it; never blocks start-up for long. */
async function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') {
    return;
  }
  await Promise.race([once(redis, 'ready'), sleep(timeoutMs)]);
}

/** Starts a worker; resolves once it listens. */
export async function startWorker(
  config: Readonly<Config>,
  logger: Logger,
): Promise<RunningService> {
  if (config.apiKeys.length === 0) {
    logger.warn('API_KEYS is empty: the API is open to anyone who can reach it');
  }
  const browser = await createBrowserCookies(config, childLogger(logger, 'browser'));
  const client = new GeminiClient({
    http: createHttpClient({ hostResolverRules: config.hostResolverRules }),
    cookies: browser.cookies,
    logger: childLogger(logger, 'gemini'),
    stallTimeoutMs: config.stallTimeoutMs,
  });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Reported by the account state and /ready; a Redis outage must not crash the worker.
  redis.on('error', () => {});
  await waitForReady(redis, 5000);
  const account = await AccountState.open({
    account: config.account,
    dataDir: config.dataDir,
    cooldown: config.cooldown,
    redis,
    logger: childLogger(logger, 'account'),
  });
  browser.session?.onLoginStateChange?.((state) => void account.setLoginState(state));

  let inFlight = 0;
  const backend: ChatBackend = {
    async *stream(job, signal) {
      inFlight += 1;
      try {
        yield* runGuarded(
          job,
          { account, generate: (req) => client.generate(req), logger },
          signal,
        );
      } finally {
        inFlight -= 1;
      }
    },
  };
  const images = new ImageStore(path.join(config.dataDir, 'images'));
  const conversations = new ConversationStore(path.join(config.dataDir, 'conversations'));
  const statusDeps = { config, account, browser, conversations, images, inFlight: () => inFlight };
  const status: StatusSource = workerStatus(statusDeps);
  const admin: AdminActions = {
    refreshSession: async () => {
      browser.cookies.invalidate();
      await browser.cookies.refresh();
      return { login_state: browser.session?.loginState ?? 'unknown' };
    },
    screenshot: async () => {
      if (!browser.session) {
        throw new ServiceUnavailableError('No browser is attached (CHROME_CDP_URL=off).', 60);
      }
      return browser.session.screenshot();
    },
    resetCooldown: async () => ({ account: await account.reset() }),
  };
  const app = createWorkerApp({
    apiKeys: config.apiKeys,
    limits: config.limits,
    uploadsDir: path.join(config.dataDir, 'uploads'),
    logger,
    backend,
    files: client,
    conversations,
    images,
    status,
    admin,
    metrics: workerMetrics(config, statusDeps),
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const port = (server.address() as AddressInfo).port;
  logger.info('worker listening', { port, account: config.account, workerId: config.workerId });
  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await client.close();
        await account.close();
        await browser.close();
        redis.disconnect();
      })();
      return closing;
    },
  };
}
