/**
 * What a worker says about itself: /health details, /ready, the metrics' node state and the
 * registry snapshot, all derived from the same parts.
 */
import type { AccountState } from '../account/index.ts';
import {
  createWorkerMetrics,
  type ConversationStore,
  type DrainSwitch,
  type ImageStore,
  type StatusSource,
  type WorkerMetrics,
} from '../api/index.ts';
import type { BrowserCookies } from '../browser/index.ts';
import type { Config } from '../config.ts';
import type { Canary, DriftTally, ModelDiscovery } from '../discovery/index.ts';
import type { ChatQueue } from '../queue/index.ts';
import { nodeStatus, type NodeSnapshot } from '../registry/index.ts';
import { VERSION } from '../version.ts';

export interface WorkerStatusDeps {
  readonly config: Readonly<Config>;
  readonly account: AccountState;
  readonly browser: BrowserCookies;
  readonly queue: ChatQueue;
  readonly conversations: ConversationStore;
  readonly images: ImageStore;
  /** Jobs waiting in the account's queue, read from Redis at each heartbeat. */
  readonly waiting: { count: number };
  /** The operator's drain flag (the console's Drain). */
  readonly drain: DrainSwitch;
  /** The account's tier and models (otAQ7b). */
  readonly discovery: ModelDiscovery;
  /** Protocol drift counted since start. */
  readonly drift: DriftTally;
  readonly canary?: Canary;
}

/**
 * The login state in effect: the browser's when one is attached. Without a browser the worker
 * serves from cookie_cache.json and counts as signed in until Gemini says otherwise.
 */
export function loginStateOf(deps: WorkerStatusDeps): string {
  const recorded = deps.account.snapshot().loginState;
  if (deps.browser.session) {
    return deps.browser.session.loginState;
  }
  return recorded === 'login_required' ? recorded : 'logged_in';
}

/** The node's state as the registry sees it, with the last known queue length. */
function snapshotNow(deps: WorkerStatusDeps): NodeSnapshot {
  const snap = deps.account.snapshot();
  const found = deps.discovery.report();
  return {
    currentTasks: deps.queue.currentTasks,
    queueWaiting: deps.waiting.count,
    cooldownUntil: snap.cooldown?.until ?? null,
    cooldownReason: snap.cooldown?.reason ?? null,
    loginState: loginStateOf(deps),
    hasServed: snap.lastSuccessAt !== null,
    models: deps.discovery.list().map((m) => m.name),
    version: VERSION,
    draining: deps.drain.draining,
    tier: found.tier,
    accountStatus: found.statusCode,
    modelDetails: found.models,
    protocolDrift: deps.drift.counts(),
  };
}

/** This node's row in gemini_service_nodes; reads the queue length from Redis first. */
export async function nodeSnapshotOf(deps: WorkerStatusDeps): Promise<NodeSnapshot> {
  deps.waiting.count = await deps.queue.stats().then(
    (s) => s.waiting,
    () => deps.waiting.count,
  );
  return snapshotNow(deps);
}

function cooldownOf(deps: WorkerStatusDeps) {
  const c = deps.account.snapshot().cooldown;
  if (!c) {
    return null;
  }
  const remainingS = Math.max(0, Math.ceil((c.until - Date.now()) / 1000));
  return { until: new Date(c.until).toISOString(), reason: c.reason, remaining_s: remainingS };
}

function statusNow(deps: WorkerStatusDeps) {
  return nodeStatus(snapshotNow(deps), Date.now());
}

/** The /health and /ready source. */
export function workerStatus(deps: WorkerStatusDeps): StatusSource {
  return {
    async health() {
      const snap = deps.account.snapshot();
      return {
        worker_id: deps.config.workerId,
        account: deps.config.account,
        version: VERSION,
        node_status: statusNow(deps),
        draining: deps.drain.draining,
        login_state: loginStateOf(deps),
        phase: snap.phase,
        cooldown: cooldownOf(deps),
        browser: deps.browser.session?.snapshot() ?? null,
        // GEMINI_TRANSPORT: whether this process or the signed-in tab sends upstream.
        transport: deps.config.transport,
        queue: {
          ready: deps.queue.ready(),
          in_flight: deps.queue.currentTasks,
          waiting: deps.waiting.count,
        },
        // Counters (kept by the stores and the retention sweeper), never a directory walk.
        conversations: { total: deps.conversations.count() },
        storage: { total_images: deps.images.count() },
        account_models: deps.discovery.report(),
        protocol_drift: {
          total: deps.drift.total,
          by_kind: deps.drift.counts(),
          canary: deps.canary?.report() ?? null,
        },
      };
    },
    async readiness() {
      const snap = deps.account.snapshot();
      if (snap.phase === 'cooling') {
        return {
          ready: false,
          reason: `The account is cooling down (${String(snap.cooldown?.reason)}).`,
        };
      }
      if (loginStateOf(deps) === 'login_required') {
        return { ready: false, reason: 'Google sign-in required: sign in over VNC.' };
      }
      if (!deps.queue.ready()) {
        return { ready: false, reason: 'Redis is unreachable.' };
      }
      return { ready: true, reason: null };
    },
  };
}

/** The worker's metrics, reading the same state at scrape time. */
export function workerMetrics(deps: WorkerStatusDeps): WorkerMetrics {
  return createWorkerMetrics(deps.config.workerId, () => ({
    status: statusNow(deps),
    loginState: loginStateOf(deps),
    currentTasks: deps.queue.currentTasks,
    queueWaiting: deps.waiting.count,
    cooldownRemainingS: cooldownOf(deps)?.remaining_s ?? 0,
  }));
}
