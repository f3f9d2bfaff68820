/**
 * @module gateway/node-summary
 * What /health, /api/nodes, the dashboard and /v1/models say about the nodes. Pure.
 */
import type { Dialect } from '../api/index.ts';
import { isFresh, nodeState, type NodeState } from './balancer.ts';
import type { DialectCount } from './metrics.ts';
import type { NodeRecord, RegistrySnapshot } from './types.ts';

/** One node as the dashboard and /health show it. */
export interface NodeSummary {
  readonly nodeUrl: string;
  readonly workerId: string | null;
  readonly account: string | null;
  readonly status: string;
  readonly state: NodeState;
  readonly eligible: boolean;
  readonly loginState: string | null;
  /** ms until the cooldown ends; 0 when not cooling. */
  readonly cooldownRemainingMs: number;
  readonly cooldownReason: string | null;
  /** current_tasks as the node last reported it. */
  readonly currentTasks: number;
  /** Requests this gateway has in flight on the node. */
  readonly inFlight: number;
  readonly queueWaiting: number | null;
  /** ms since the last heartbeat; null when it never beat. */
  readonly heartbeatAgeMs: number | null;
  readonly weight: number;
  readonly version: string | null;
  readonly models: readonly string[];
  /** The account's tier (free, pro, plus, other); null until the node reports one. */
  readonly tier: string | null;
  /** The otAQ7b account status code; null until known. */
  readonly accountStatus: number | null;
  /** Protocol drift the node counted, by kind; empty when none. */
  readonly protocolDrift: Readonly<Record<string, number>>;
}

/** The body of /health and /api/nodes. */
export interface NodesReport {
  readonly status: 'ok' | 'no_eligible_node' | 'registry_unreachable';
  readonly total: number;
  readonly eligible: number;
  /** ms since the registry was last read; null before the first read. */
  readonly registryAgeMs: number | null;
  /** True once the table is too old to route on (PostgreSQL away past the limit). */
  readonly registryExpired: boolean;
  readonly registryError: string | null;
  readonly nodes: readonly NodeSummary[];
  /** Client API requests by dialect since this gateway started (admin views only). */
  readonly dialects?: Readonly<Record<Dialect, DialectCount>>;
}

/** Summarises one node at `now`. */
export function summarizeNode(
  n: NodeRecord,
  now: number,
  nodeFreshMs: number,
  inFlight: ReadonlyMap<string, number>,
): NodeSummary {
  const state = nodeState(n, now, nodeFreshMs);
  return {
    nodeUrl: n.nodeUrl,
    workerId: n.workerId,
    account: n.account,
    status: n.status,
    state,
    eligible: state === 'eligible',
    loginState: n.loginState,
    cooldownRemainingMs: n.cooldownUntilMs === null ? 0 : Math.max(0, n.cooldownUntilMs - now),
    cooldownReason: n.cooldownReason,
    currentTasks: n.currentTasks,
    inFlight: inFlight.get(n.nodeUrl) ?? 0,
    queueWaiting: n.queueWaiting,
    heartbeatAgeMs: n.lastHeartbeatMs === null ? null : Math.max(0, now - n.lastHeartbeatMs),
    weight: n.weight,
    version: n.version,
    models: n.models,
    tier: n.tier ?? null,
    accountStatus: n.accountStatus ?? null,
    protocolDrift: n.protocolDrift ?? {},
  };
}

/** The whole report at `now`. */
export function reportNodes(
  snapshot: RegistrySnapshot,
  now: number,
  nodeFreshMs: number,
  inFlight: ReadonlyMap<string, number>,
): NodesReport {
  const nodes = snapshot.nodes.map((n) => summarizeNode(n, now, nodeFreshMs, inFlight));
  const eligible = nodes.filter((n) => n.eligible).length;
  const status =
    snapshot.fetchedAtMs === 0 || snapshot.error !== null
      ? 'registry_unreachable'
      : eligible === 0
        ? 'no_eligible_node'
        : 'ok';
  return {
    status,
    total: nodes.length,
    eligible,
    registryAgeMs: snapshot.fetchedAtMs === 0 ? null : now - snapshot.fetchedAtMs,
    registryExpired: snapshot.expired === true,
    // The detail (addresses, PostgreSQL's words) stays in the log: these pages are public.
    registryError: snapshot.error === null ? null : 'the last registry read failed',
    nodes,
  };
}

/** One entry of OpenAI's model list. */
export interface ModelEntry {
  readonly id: string;
  readonly object: 'model';
  readonly created: number;
  readonly owned_by: string;
}

/** The union of the fresh nodes' models, sorted; `created` is the oldest such node's, in s. */
export function listModels(
  nodes: readonly NodeRecord[],
  now: number,
  nodeFreshMs: number,
): ModelEntry[] {
  const created = new Map<string, number>();
  for (const n of nodes) {
    if (!isFresh(n, now, nodeFreshMs) || n.status === 'OFFLINE') {
      continue;
    }
    const at = Math.floor((n.createdAtMs ?? now) / 1000);
    for (const id of n.models) {
      created.set(id, Math.min(created.get(id) ?? at, at));
    }
  }
  return [...created.keys()]
    .sort()
    .map((id) => ({ id, object: 'model', created: created.get(id) ?? 0, owned_by: 'google' }));
}
