/**
 * The worker role: wires the browser (or cookie_cache.json), the Gemini client, the account
 * state, the account's queue, the registry heartbeat and the HTTP app for one Google account.
 */
import { Redis } from 'ioredis';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountState } from '../account/index.ts';
import {
  ConversationStore,
  ImageStore,
  createDrainSwitch,
  createWorkerHttp,
  hostRulesResolver,
  readStagedInput,
  storeGeneratedImages,
  sweepStaleInputs,
  type WorkerMetrics,
} from '../api/index.ts';
import { createBrowserCookies, createPageTransport } from '../browser/index.ts';
import type { Config } from '../config.ts';
import { createDriftTally } from '../discovery/index.ts';
import { GeminiClient, createHttpClient } from '../gemini/index.ts';
import { childLogger, registerSecret, registerUrlPassword, type Logger } from '../logging.ts';
import { ChatQueue } from '../queue/index.ts';
import { Heartbeat, createPool } from '../registry/index.ts';
import { KeyRing, checkAuthConfigured } from '../http/index.ts';
import { RetentionSweeper } from '../retention/index.ts';
import {
  nodeSnapshotOf,
  workerMetrics,
  workerStatus,
  type WorkerStatusDeps,
} from './worker-status.ts';
import { adminActions } from './worker-admin.ts';
import { startAccountWatch } from './worker-discovery.ts';

/** How long a running job may go on after SIGTERM before it is failed (see close()). */
const SHUTDOWN_JOB_GRACE_MS = 5_000;

export interface RunningService {
  readonly url: string;
  readonly port: number;
  /** Stops serving and releases everything; idempotent. */
  close(): Promise<void>;
}

/** Gives Redis a moment to connect so the first reads see it; never blocks start-up for long. */
async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status !== 'ready') {
    // `once` rejects on the first 'error'; a Redis that is down must not stop the worker.
    await Promise.race([once(redis, 'ready').catch(() => {}), sleep(timeoutMs)]);
  }
}

function retentionSweeper(
  config: Readonly<Config>,
  deps: WorkerStatusDeps,
  logger: Logger,
): RetentionSweeper {
  const { retention } = config;
  return new RetentionSweeper({
    intervalMs: retention.sweepIntervalMs,
    logger: childLogger(logger, 'retention'),
    targets: [
      {
        name: 'images',
        dir: deps.images.dir,
        maxAgeMs: retention.imagesMs,
        onCount: (n) => deps.images.setCount(n),
      },
      { name: 'uploads', dir: path.join(config.dataDir, 'uploads'), maxAgeMs: retention.uploadsMs },
      {
        name: 'conversations',
        dir: deps.conversations.dir,
        maxAgeMs: retention.conversationsMs,
        isItem: (relative) => !relative.includes(path.sep) && relative.endsWith('.json'),
        onCount: (n) => deps.conversations.setCount(n),
      },
    ],
  });
}

async function listen(server: http.Server, port: number): Promise<number> {
  server.listen(port);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Starts a worker; resolves once it listens. The database may be down: it registers later. */
export async function startWorker(
  config: Readonly<Config>,
  logger: Logger,
): Promise<RunningService> {
  registerUrlPassword(config.database.connectionString);
  const keys = new KeyRing(config, registerSecret);
  // Before anything starts: no key and no ALLOW_NO_AUTH=1 is a refusal, not a warning.
  checkAuthConfigured(keys, (message) => logger.warn(message));
  const stopWatchingKeys = keys.watch((counts) => logger.info('API keys reloaded', counts));
  const browser = await createBrowserCookies(config, childLogger(logger, 'browser'));
  let metrics: WorkerMetrics | null = null;
  const drift = createDriftTally((kind) => metrics?.protocolDrift.inc({ kind }));
  const client = new GeminiClient({
    http: createHttpClient({ hostResolverRules: config.hostResolverRules }),
    cookies: browser.cookies,
    logger: childLogger(logger, 'gemini'),
    stallTimeoutMs: config.stallTimeoutMs,
    ...(config.transport === 'page' && browser.session
      ? { transport: createPageTransport(browser.session) }
      : {}),
    onDrift: (kind) => drift.record(kind),
    requestForm: config.requestForm,
  });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Outages show in /ready and the account state; an 'error' event must not crash the process.
  redis.on('error', () => {});
  await waitForRedis(redis, 5000);
  const account = await AccountState.open({
    account: config.account,
    dataDir: config.dataDir,
    cooldown: config.cooldown,
    redis,
    // A probe holds its lock for as long as its request may run.
    probeTtlMs: config.requestTimeoutMs + 30_000,
    logger: childLogger(logger, 'account'),
  });
  browser.session?.onLoginStateChange((state) => void account.setLoginState(state));
  const images = new ImageStore(path.join(config.dataDir, 'images'));
  const inputsDir = path.join(config.dataDir, 'inputs');
  await sweepStaleInputs(inputsDir, config.queue.waitMs + config.requestTimeoutMs + 60_000);
  const imageLog = childLogger(logger, 'images');
  const queue = new ChatQueue({
    account,
    redisUrl: config.redisUrl,
    generate: (req) => client.generate(req),
    rpc: (rpcId, payload, signal) => client.rpc(rpcId, payload, signal),
    // Uploads, image downloads and rpcs (discovery) run in jobs: the account's line, admitted.
    upload: async (input, signal) =>
      client.upload(await readStagedInput(input), input.fileName, input.mimeType, signal),
    storeImages: (result, signal, owner) =>
      storeGeneratedImages(
        result,
        { fetchImage: (url, s) => client.fetchImage(url, s), images, logger: imageLog },
        signal,
        owner,
      ),
    onUpstreamSend: (outcome) => metrics?.upstreamSends.inc({ outcome }),
    queue: config.queue,
    requestTimeoutMs: config.requestTimeoutMs,
    // main.ts exits 10 s after SIGTERM whatever happens: a running job gets 5 s to finish, then
    // it is failed ("shutting down"), so that OFFLINE is still written within those 10 s.
    closeGraceMs: SHUTDOWN_JOB_GRACE_MS,
    logger: childLogger(logger, 'queue'),
  });
  // With Redis down, start() waits for it; the worker must listen meanwhile (503 until it is back).
  const started = queue.start().catch((err: unknown) => {
    logger.error('the queue worker did not start', { err });
  });
  await Promise.race([started, sleep(5000)]);
  const watch = startAccountWatch({ config, client, account, queue, drift, logger });
  const deps: WorkerStatusDeps = {
    config,
    account,
    browser,
    queue,
    conversations: new ConversationStore(path.join(config.dataDir, 'conversations'), logger),
    images,
    waiting: { count: 0 },
    drain: createDrainSwitch(),
    discovery: watch.discovery,
    drift,
    canary: watch.canary,
  };
  // The heartbeat needs the listening port; drain actions reach it through this, once it exists.
  const beat = { now: async (): Promise<boolean> => false };
  metrics = workerMetrics(deps);
  const sweeper = retentionSweeper(config, deps, logger);
  sweeper.start();
  const { listener } = createWorkerHttp({
    keys,
    trustProxy: config.trustProxy,
    limits: config.limits,
    imageFetch: { ...config.imageFetch, resolve: hostRulesResolver(config.hostResolverRules) },
    uploadsDir: path.join(config.dataDir, 'uploads'),
    inputsDir,
    sseKeepAliveMs: config.sseKeepAliveMs,
    logger,
    backend: queue,
    conversations: deps.conversations,
    images: deps.images,
    status: workerStatus(deps),
    admin: adminActions(browser, account, deps.drain, () => beat.now()),
    metrics,
    anthropicModelMap: config.anthropicModelMap,
    drain: deps.drain,
    models: watch.discovery,
  });
  // The chat POSTs skip express's router walk (api/fast-path.ts); Expect: 100-continue is
  // answered by node:http before either sees the request, as before.
  const server = http.createServer(listener);
  const port = await listen(server, config.port);
  // With PORT=0 (tests) the real port is only known now.
  const nodeUrl = config.port === 0 ? config.nodeUrl.replace(/:0$/, `:${port}`) : config.nodeUrl;
  const pool = createPool(config.database);
  const heartbeat = new Heartbeat({
    pool,
    identity: {
      nodeUrl,
      workerId: config.workerId,
      weight: config.weight,
      account: config.account,
    },
    snapshot: () => nodeSnapshotOf(deps),
    intervalMs: config.heartbeatIntervalMs,
    logger: childLogger(logger, 'registry'),
  });
  beat.now = async () => {
    // A beat already running read the state before the action: write once more after it.
    await heartbeat.beat();
    return heartbeat.beat();
  };
  heartbeat.start();
  logger.info('worker listening', {
    port,
    nodeUrl,
    account: config.account,
    workerId: config.workerId,
  });

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      // Stop taking work, let the queue end its job and the last answers' saves, say OFFLINE.
      closing ??= (async () => {
        server.close();
        stopWatchingKeys();
        await sweeper.close();
        await watch.close();
        await queue.close();
        await deps.conversations.close();
        server.closeAllConnections();
        await heartbeat.close();
        await Promise.allSettled([pool.end(), client.close(), account.close(), browser.close()]);
        redis.disconnect();
      })();
      return closing;
    },
  };
}
