/**
 * What a worker says about itself: /health details, /ready, the metrics' node state, and the
 * registry status (HEALTHY, BUSY, INIT, 429_LIMIT), all derived from one place.
 */
import type { AccountState } from '../account/index.ts';
import {
  createWorkerMetrics,
  type ConversationStore,
  type ImageStore,
  type StatusSource,
  type WorkerMetrics,
} from '../api/index.ts';
import type { BrowserCookies } from '../browser/index.ts';
import type { Config } from '../config.ts';

export interface WorkerStatusDeps {
  readonly config: Readonly<Config>;
  readonly account: AccountState;
  readonly browser: BrowserCookies;
  readonly conversations: ConversationStore;
  readonly images: ImageStore;
  readonly inFlight: () => number;
  /** Jobs waiting in the account queue (0 without one). */
  readonly queueWaiting?: () => number;
}

export type NodeStatus = 'HEALTHY' | 'BUSY' | 'INIT' | '429_LIMIT';

/** The login state in effect: the browser's when one is attached, else the account's record. */
export function loginStateOf(deps: WorkerStatusDeps): string {
  return deps.browser.session?.loginState ?? deps.account.snapshot().loginState;
}

/** The seed's node status, for the registry and the metrics. */
export function nodeStatusOf(deps: WorkerStatusDeps): NodeStatus {
  const snap = deps.account.snapshot();
  if (snap.phase === 'cooling') {
    return '429_LIMIT';
  }
  if (snap.phase === 'login_required' || loginStateOf(deps) === 'login_required') {
    return 'INIT';
  }
  return deps.inFlight() > 0 ? 'BUSY' : 'HEALTHY';
}

function cooldownOf(deps: WorkerStatusDeps) {
  const c = deps.account.snapshot().cooldown;
  if (!c) {
    return null;
  }
  const remainingS = Math.max(0, Math.ceil((c.until - Date.now()) / 1000));
  return { until: new Date(c.until).toISOString(), reason: c.reason, remaining_s: remainingS };
}

/** The /health and /ready source. */
export function workerStatus(deps: WorkerStatusDeps): StatusSource {
  return {
    async health() {
      const snap = deps.account.snapshot();
      return {
        worker_id: deps.config.workerId,
        account: deps.config.account,
        node_url: deps.config.nodeUrl,
        node_status: nodeStatusOf(deps),
        login_state: loginStateOf(deps),
        phase: snap.phase,
        cooldown: cooldownOf(deps),
        browser: deps.browser.session?.snapshot() ?? null,
        queue: { in_flight: deps.inFlight(), waiting: deps.queueWaiting?.() ?? 0 },
        conversations: { total: await deps.conversations.count() },
        storage: { total_images: await deps.images.count() },
      };
    },
    async readiness() {
      const snap = deps.account.snapshot();
      const login = loginStateOf(deps);
      if (snap.phase === 'cooling') {
        return {
          ready: false,
          reason: `The account is cooling down (${String(snap.cooldown?.reason)}).`,
        };
      }
      if (login === 'login_required' || snap.phase === 'login_required') {
        return { ready: false, reason: 'Google sign-in required: sign in over VNC.' };
      }
      if (!snap.sharedStoreOk) {
        return { ready: false, reason: 'Redis is unreachable.' };
      }
      return { ready: true, reason: null };
    },
  };
}

/** The worker's metrics, reading the same state at scrape time. */
export function workerMetrics(config: Readonly<Config>, deps: WorkerStatusDeps): WorkerMetrics {
  return createWorkerMetrics(config.workerId, () => ({
    status: nodeStatusOf(deps),
    loginState: loginStateOf(deps),
    currentTasks: deps.inFlight(),
    queueWaiting: deps.queueWaiting?.() ?? 0,
    cooldownRemainingS: cooldownOf(deps)?.remaining_s ?? 0,
  }));
}
