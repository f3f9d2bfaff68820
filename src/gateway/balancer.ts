/**
 * @module gateway/balancer
 * Node selection, pure: the same rows, clock and options always give the same answer.
 */
import { ModelNotFoundError, RateLimitError, ServiceUnavailableError } from '../errors.ts';
import type { Binding, NodeRecord } from './types.ts';

/** Why a node can or cannot take a request now. */
export type NodeState =
  | 'eligible'
  | 'stale'
  | 'offline'
  | 'draining'
  | 'starting'
  | 'cooling'
  | 'login_required'
  | 'drained';

/** Options of pick(); only nodeFreshMs is required. */
export interface PickOptions {
  /** A heartbeat older than this makes a node stale (config.gateway.nodeFreshMs). */
  readonly nodeFreshMs: number;
  /** Requests this gateway has sent to each node_url and not yet finished. */
  readonly inFlight?: ReadonlyMap<string, number>;
  /** The conversation's binding: its node is preferred, then any node of its account. */
  readonly affinity?: Binding | null;
  /** Rotates the choice among equally good nodes (e.g. a request counter). */
  readonly rotation?: number;
  /** Retry-After of the 503 when no node can serve. */
  readonly unavailableRetryAfterS?: number;
  /** Retry-After of the 429 when cooling nodes do not say when they end. */
  readonly coolingRetryAfterS?: number;
  /** Only nodes whose account has this model (name or alias) are chosen. */
  readonly model?: string | null;
}

const SERVING = new Set(['HEALTHY', 'BUSY']);
const RATIO_EPSILON = 1e-9;

/** True when the node's heartbeat is no older than nodeFreshMs at `now`. */
export function isFresh(node: NodeRecord, now: number, nodeFreshMs: number): boolean {
  return node.lastHeartbeatMs !== null && now - node.lastHeartbeatMs <= nodeFreshMs;
}

/** True when the node is cooling down at `now` (a future cooldown_until, or status 429_LIMIT). */
export function isCooling(node: NodeRecord, now: number): boolean {
  return (
    (node.cooldownUntilMs !== null && node.cooldownUntilMs > now) || node.status === '429_LIMIT'
  );
}

/**
 * Whether the node's account has `model` (by name or alias, case-insensitively). A node that
 * lists no model at all (a seed worker) is taken to serve any.
 */
export function servesModel(node: NodeRecord, model: string): boolean {
  if (node.models.length === 0) {
    return true;
  }
  const wanted = model.trim().toLowerCase();
  return [...node.models, ...(node.modelAliases ?? [])].some((m) => m.toLowerCase() === wanted);
}

/** The node's state at `now`; only 'eligible' nodes are chosen. */
export function nodeState(node: NodeRecord, now: number, nodeFreshMs: number): NodeState {
  if (!isFresh(node, now, nodeFreshMs)) {
    return 'stale';
  }
  if (node.status === 'OFFLINE') {
    return 'offline';
  }
  // An operator drained it (the console): it finishes its work and takes nothing new.
  if (node.draining === true) {
    return 'draining';
  }
  if (isCooling(node, now)) {
    return 'cooling';
  }
  // A worker whose Chrome is restarting still serves from its saved cookies.
  if (node.loginState !== 'logged_in' && node.loginState !== 'browser_unreachable') {
    return 'login_required';
  }
  if (!SERVING.has(node.status)) {
    return 'starting';
  }
  // Weight 0 drains a node: it stays registered but takes no new request.
  return node.weight > 0 ? 'eligible' : 'drained';
}

/**
 * Chooses the node for one request. Throws RateLimitError (Retry-After: the soonest cooldown end)
 * when every live node is cooling, and ServiceUnavailableError when no node can serve otherwise.
 * Nodes in `exclude` (node_url) are never chosen.
 */
export function pick(
  all: readonly NodeRecord[],
  now: number,
  opts: PickOptions,
  exclude: ReadonlySet<string> = new Set(),
): NodeRecord {
  const model = opts.model;
  const nodes = model ? all.filter((n) => servesModel(n, model)) : all;
  // 404 only when live nodes exist and none has the model; with no live node at all, the
  // 503 below says what is really wrong.
  const live = (n: NodeRecord) => isFresh(n, now, opts.nodeFreshMs) && n.status !== 'OFFLINE';
  if (model && all.some(live) && !nodes.some(live)) {
    throw new ModelNotFoundError(model);
  }
  let candidates = nodes.filter(
    (n) => !exclude.has(n.nodeUrl) && nodeState(n, now, opts.nodeFreshMs) === 'eligible',
  );
  if (candidates.length === 0) {
    throw noNodeError(nodes, now, opts, exclude);
  }
  const affinity = opts.affinity;
  if (affinity) {
    const bound = candidates.find((n) => n.nodeUrl === affinity.nodeUrl);
    if (bound) {
      return bound;
    }
    const sameAccount = candidates.filter(
      (n) => affinity.account !== null && n.account === affinity.account,
    );
    if (sameAccount.length > 0) {
      candidates = sameAccount;
    }
  }
  return leastLoaded(candidates, opts);
}

/** The lowest (load + 1) / weight; ties go to the heavier, then the idler, then by rotation. */
function leastLoaded(candidates: readonly NodeRecord[], opts: PickOptions): NodeRecord {
  const load = (n: NodeRecord): number => n.currentTasks + (opts.inFlight?.get(n.nodeUrl) ?? 0);
  const ratio = (n: NodeRecord): number => (load(n) + 1) / n.weight;
  const ranked = [...candidates].sort(
    (a, b) =>
      ratio(a) - ratio(b) ||
      b.weight - a.weight ||
      load(a) - load(b) ||
      (a.nodeUrl < b.nodeUrl ? -1 : a.nodeUrl > b.nodeUrl ? 1 : 0),
  );
  const best = ranked[0] as NodeRecord;
  const tied = ranked.filter(
    (n) =>
      Math.abs(ratio(n) - ratio(best)) < RATIO_EPSILON &&
      n.weight === best.weight &&
      load(n) === load(best),
  );
  const turn = Math.abs(Math.trunc(opts.rotation ?? 0)) % tied.length;
  return tied[turn] ?? best;
}

function noNodeError(
  nodes: readonly NodeRecord[],
  now: number,
  opts: PickOptions,
  exclude: ReadonlySet<string>,
): RateLimitError | ServiceUnavailableError {
  const live = nodes.filter(
    (n) => !exclude.has(n.nodeUrl) && isFresh(n, now, opts.nodeFreshMs) && n.status !== 'OFFLINE',
  );
  if (live.length > 0 && live.every((n) => isCooling(n, now))) {
    const ends = live
      .map((n) => n.cooldownUntilMs)
      .filter((t): t is number => t !== null && t > now);
    const retryAfterS =
      ends.length > 0
        ? Math.max(1, Math.ceil((Math.min(...ends) - now) / 1000))
        : (opts.coolingRetryAfterS ?? 60);
    return new RateLimitError(
      `Every Gemini account is cooling down; retry in ${retryAfterS} s.`,
      retryAfterS,
      { code: 'all_nodes_cooling' },
    );
  }
  return new ServiceUnavailableError(
    'No Gemini node is available to serve this request.',
    opts.unavailableRetryAfterS ?? 5,
    { code: 'no_node_available' },
  );
}
