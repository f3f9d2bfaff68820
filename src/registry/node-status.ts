/**
 * What a node reports in gemini_service_nodes, and the seed's status rules applied to it.
 */

/** The seed's statuses, which its gateway routes on. */
export type NodeStatus = 'HEALTHY' | 'BUSY' | 'INIT' | '429_LIMIT' | 'OFFLINE';

/** Fixed facts about this node (from config). */
export interface NodeIdentity {
  /** `http://EXTERNAL_IP:EXTERNAL_PORT`, the primary key. */
  readonly nodeUrl: string;
  readonly workerId: string;
  readonly weight: number;
  readonly account: string;
}

/** The node's state at one heartbeat. */
export interface NodeSnapshot {
  /** Jobs this process is running now. */
  readonly currentTasks: number;
  /** Jobs waiting in the account's queue. */
  readonly queueWaiting: number;
  /** Epoch ms; null when no cooldown is set. */
  readonly cooldownUntil: number | null;
  readonly cooldownReason: string | null;
  /** 'logged_in' | 'login_required' | 'browser_unreachable' | 'unknown'. */
  readonly loginState: string;
  /** The account has served a request (so the worker is known to work). */
  readonly hasServed: boolean;
  readonly models: readonly string[];
  readonly version: string | null;
  /** An operator drained the node: it finishes its work and takes no new request. */
  readonly draining?: boolean;
  /** The account's tier from discovery (free, pro, plus, other); null until known. */
  readonly tier?: string | null;
  /** The otAQ7b account status code (1000 ok, 1016 guest, 1060 region); null until known. */
  readonly accountStatus?: number | null;
  /** The models with their upstream ids and aliases, as discovery found them. */
  readonly modelDetails?: readonly NodeModel[];
  /** Protocol drift counted by kind since the worker started. */
  readonly protocolDrift?: Readonly<Record<string, number>>;
}

/** One model of a node, as the registry stores it in model_details. */
export interface NodeModel {
  readonly name: string;
  readonly aliases: readonly string[];
  /** The upstream model id; null for the server's default. */
  readonly id: string | null;
  readonly displayName: string;
  readonly thinking: boolean;
}

/**
 * The seed's status: 429_LIMIT while a cooldown runs; INIT while signed out, or until the worker
 * has served or checked its login; BUSY while it runs a task; HEALTHY otherwise. A cooldown whose
 * end has passed (half-open) reports HEALTHY, so that a gateway sends the probe request.
 */
export function nodeStatus(s: NodeSnapshot, nowMs: number): NodeStatus {
  if (s.cooldownUntil !== null && s.cooldownUntil > nowMs) {
    return '429_LIMIT';
  }
  if (s.loginState === 'login_required') {
    return 'INIT';
  }
  if (s.currentTasks > 0) {
    return 'BUSY';
  }
  // browser_unreachable counts as checked: the worker may still serve from cookie_cache.json.
  const loginChecked = s.loginState === 'logged_in' || s.loginState === 'browser_unreachable';
  return s.hasServed || loginChecked ? 'HEALTHY' : 'INIT';
}
