/**
 * SQL on gemini_service_nodes: the heartbeat's upsert and the typed read the gateway uses.
 */
import type pg from 'pg';
import type { NodeIdentity, NodeModel, NodeSnapshot, NodeStatus } from './node-status.ts';

/** One row of gemini_service_nodes, as pg returns it. Column names are the contract. */
export interface NodeRow {
  node_url: string;
  worker_id: string;
  weight: number;
  /** One of NodeStatus, unless a foreign writer (the seed's gateway) put something else. */
  status: NodeStatus | (string & {});
  last_heartbeat: Date;
  created_at: Date;
  dispatched_tasks: number;
  current_tasks: number;
  account: string | null;
  cooldown_until: Date | null;
  cooldown_reason: string | null;
  login_state: string;
  version: string | null;
  models: string[];
  queue_waiting: number;
  draining: boolean;
  tier: string | null;
  account_status: number | null;
  model_details: NodeModel[];
  protocol_drift: Record<string, number>;
}

const COLUMNS =
  'node_url, worker_id, weight, status, last_heartbeat, created_at, dispatched_tasks, ' +
  'current_tasks, account, cooldown_until, cooldown_reason, login_state, version, models, ' +
  'queue_waiting, draining, tier, account_status, model_details, protocol_drift';

/** Every node, ordered by node_url. */
export async function listNodes(pool: pg.Pool): Promise<NodeRow[]> {
  const { rows } = await pool.query<NodeRow>(
    `SELECT ${COLUMNS} FROM gemini_service_nodes ORDER BY node_url`,
  );
  return rows;
}

// dispatched_tasks and created_at belong to the row's first insert and to the gateway: an update
// never touches them.
const UPSERT = `
INSERT INTO gemini_service_nodes (node_url, worker_id, weight, status, last_heartbeat,
  current_tasks, account, cooldown_until, cooldown_reason, login_state, version, models,
  queue_waiting, draining, tier, account_status, model_details, protocol_drift)
VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (node_url) DO UPDATE SET
  worker_id = EXCLUDED.worker_id, weight = EXCLUDED.weight, status = EXCLUDED.status,
  last_heartbeat = now(), current_tasks = EXCLUDED.current_tasks, account = EXCLUDED.account,
  cooldown_until = EXCLUDED.cooldown_until, cooldown_reason = EXCLUDED.cooldown_reason,
  login_state = EXCLUDED.login_state, version = EXCLUDED.version, models = EXCLUDED.models,
  queue_waiting = EXCLUDED.queue_waiting, draining = EXCLUDED.draining, tier = EXCLUDED.tier,
  account_status = EXCLUDED.account_status, model_details = EXCLUDED.model_details,
  protocol_drift = EXCLUDED.protocol_drift`;

/** Writes this node's row (insert or update), stamping last_heartbeat with the server's now(). */
export async function upsertNode(
  pool: pg.Pool,
  id: NodeIdentity,
  snap: NodeSnapshot,
  status: NodeStatus,
): Promise<void> {
  await pool.query(UPSERT, [
    id.nodeUrl,
    id.workerId,
    id.weight,
    status,
    snap.currentTasks,
    id.account,
    snap.cooldownUntil === null ? null : new Date(snap.cooldownUntil),
    snap.cooldownReason,
    snap.loginState,
    snap.version,
    [...snap.models],
    snap.queueWaiting,
    snap.draining === true,
    snap.tier ?? null,
    snap.accountStatus ?? null,
    JSON.stringify(snap.modelDetails ?? []),
    JSON.stringify(snap.protocolDrift ?? {}),
  ]);
}
