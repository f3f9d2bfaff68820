/**
 * Rows in the registry's node table as e2e/gateway.test.ts's cases need them: any status, age,
 * cooldown or login state, without a worker behind them.
 */
import type pg from 'pg';

/** One row of gemini_service_nodes; what is not given takes a healthy default. */
export interface NodeRow {
  node_url: string;
  worker_id?: string;
  weight?: number;
  status?: string;
  heartbeat_age_s?: number | null;
  account?: string;
  cooldown_s?: number | null;
  cooldown_reason?: string | null;
  login_state?: string;
  current_tasks?: number;
  models?: string[];
}

/** Inserts the row, its heartbeat and cooldown relative to the database's clock. */
export async function insertNode(pool: pg.Pool, r: NodeRow): Promise<void> {
  await pool.query(
    `insert into gemini_service_nodes (node_url, worker_id, weight, status, last_heartbeat,
       created_at, dispatched_tasks, current_tasks, account, cooldown_until, cooldown_reason,
       login_state, version, models, queue_waiting)
     values ($1, $2, $3, $4, now() - make_interval(secs => $5), now(), 0, $6, $7,
       now() + make_interval(secs => $8), $9, $10, '0.1.0', $11, 0)`,
    [
      r.node_url,
      r.worker_id ?? 'w',
      r.weight ?? 1,
      r.status ?? 'HEALTHY',
      r.heartbeat_age_s ?? 1,
      r.current_tasks ?? 0,
      r.account ?? 'acct',
      r.cooldown_s ?? null,
      r.cooldown_reason ?? null,
      r.login_state ?? 'logged_in',
      r.models ?? ['gemini-2.5-flash'],
    ],
  );
}
