/**
 * @module gateway/node-source
 * The registry as the gateway sees it: one query, repeated on a timer and shared by every
 * request, which read the last snapshot without waiting. When PostgreSQL is away the gateway keeps
 * routing on the last table it read, for up to maxStaleMs: every heartbeat keeps the age it had at
 * that read (the workers beat into the same unreachable database, so their silence says nothing).
 * A node that died meanwhile refuses connections and is failed over. Past maxStaleMs the table is
 * expired and requests get a 503 that says why.
 */
import type pg from 'pg';
import { ServiceUnavailableError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { NodeProvider, NodeRecord, RegistrySnapshot } from './types.ts';

/** Options of NodeSource. */
export interface NodeSourceOptions {
  /** How often the registry is read; at most 1000 (the gateway's promise). */
  readonly refreshMs?: number;
  /** A read slower than this counts as failed. */
  readonly queryTimeoutMs?: number;
  /** How long the last table read is routed on while reads fail (default 5 minutes). */
  readonly maxStaleMs?: number;
  readonly now?: () => number;
}

/** Default of NodeSourceOptions.maxStaleMs (GATEWAY_REGISTRY_MAX_STALE_S). */
export const DEFAULT_MAX_STALE_MS = 300_000;

/**
 * Throws a 503 when the snapshot is too old to route on (PostgreSQL unreachable for longer than
 * the limit); the message says so, instead of a vague "no node available".
 */
export function assertRoutable(snapshot: RegistrySnapshot, now: number): void {
  if (snapshot.expired === true) {
    const ageS = Math.round((now - snapshot.fetchedAtMs) / 1000);
    throw new ServiceUnavailableError(
      `The gateway has not been able to read its node table from PostgreSQL for ${ageS} s, ` +
        'longer than it may route on an old table (GATEWAY_REGISTRY_MAX_STALE_S); ' +
        'requests are refused until the database is back.',
      10,
      { code: 'registry_unavailable' },
    );
  }
}

// Ages come from PostgreSQL's clock and are rebased on ours when read (see types.ts).
const NODES_SQL = `
  select node_url, worker_id, account, weight, status, login_state, cooldown_reason,
         current_tasks, dispatched_tasks, queue_waiting, version, models, draining,
         tier, account_status, model_details, protocol_drift,
         extract(epoch from (now() - last_heartbeat)) * 1000 as heartbeat_age_ms,
         extract(epoch from (cooldown_until - now())) * 1000 as cooldown_left_ms,
         extract(epoch from created_at) * 1000 as created_at_ms
    from gemini_service_nodes
   order by node_url`;

interface NodeRow {
  node_url: string;
  worker_id: string | null;
  account: string | null;
  weight: number | null;
  status: string | null;
  login_state: string | null;
  cooldown_reason: string | null;
  current_tasks: number | null;
  dispatched_tasks: number | null;
  queue_waiting: number | null;
  version: string | null;
  models: string[] | null;
  draining?: boolean | null;
  tier?: string | null;
  account_status?: number | null;
  model_details?: { aliases?: unknown }[] | null;
  protocol_drift?: Record<string, number> | null;
  heartbeat_age_ms: string | number | null;
  cooldown_left_ms: string | number | null;
  created_at_ms: string | number | null;
}

/** Maps one registry row to a NodeRecord on the gateway's clock, `readAtMs` being when it was read. */
export function toNodeRecord(row: NodeRow, readAtMs: number): NodeRecord {
  const age = toNumber(row.heartbeat_age_ms);
  const left = toNumber(row.cooldown_left_ms);
  const created = toNumber(row.created_at_ms);
  return {
    nodeUrl: row.node_url,
    workerId: row.worker_id,
    account: row.account,
    weight: Number(row.weight ?? 1),
    status: row.status ?? 'INIT',
    loginState: row.login_state,
    lastHeartbeatMs: age === null ? null : readAtMs - age,
    cooldownUntilMs: left === null ? null : readAtMs + left,
    cooldownReason: row.cooldown_reason,
    currentTasks: row.current_tasks ?? 0,
    dispatchedTasks: row.dispatched_tasks ?? 0,
    queueWaiting: row.queue_waiting,
    version: row.version,
    models: row.models ?? [],
    modelAliases: (row.model_details ?? []).flatMap((m) =>
      Array.isArray(m.aliases) ? m.aliases.filter((a): a is string => typeof a === 'string') : [],
    ),
    tier: row.tier ?? null,
    accountStatus: row.account_status ?? null,
    protocolDrift: row.protocol_drift ?? {},
    createdAtMs: created === null ? null : Math.round(created),
    draining: row.draining === true,
  };
}

function toNumber(v: string | number | null): number | null {
  if (v === null) {
    return null;
  }
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Reads gemini_service_nodes every refreshMs; snapshot() never waits. */
export class NodeSource implements NodeProvider {
  private current: RegistrySnapshot = { nodes: [], fetchedAtMs: 0, error: null };
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;
  private readonly refreshMs: number;
  private readonly queryTimeoutMs: number;
  private readonly maxStaleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    options: NodeSourceOptions = {},
  ) {
    this.refreshMs = Math.min(1000, Math.max(50, options.refreshMs ?? 500));
    this.queryTimeoutMs = options.queryTimeoutMs ?? 2000;
    this.maxStaleMs = options.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Reads once and starts the timer; resolves even if the first read fails (logged). */
  async start(): Promise<void> {
    await this.refresh();
    if (!this.closed && this.timer === null) {
      this.timer = setInterval(() => void this.refresh(), this.refreshMs);
      this.timer.unref();
    }
  }

  /**
   * The last table read. While reads fail, heartbeat ages are held at what they were at that read,
   * until the table is older than maxStaleMs; then it is marked expired.
   */
  snapshot(): RegistrySnapshot {
    const current = this.current;
    if (current.error === null || current.fetchedAtMs === 0) {
      return current;
    }
    const ageMs = Math.max(0, this.now() - current.fetchedAtMs);
    if (ageMs > this.maxStaleMs) {
      return { ...current, expired: true };
    }
    const nodes = current.nodes.map((n) =>
      n.lastHeartbeatMs === null ? n : { ...n, lastHeartbeatMs: n.lastHeartbeatMs + ageMs },
    );
    return { ...current, nodes };
  }

  /** Reads the registry now; concurrent calls share one query. */
  refresh(): Promise<void> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Stops the timer. Idempotent; the pool belongs to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.inFlight;
  }

  private async read(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        this.pool.query<NodeRow>(NODES_SQL),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`registry read took over ${this.queryTimeoutMs} ms`)),
            this.queryTimeoutMs,
          );
        }),
      ]);
      const readAtMs = this.now();
      this.current = {
        nodes: result.rows.map((r) => toNodeRecord(r, readAtMs)),
        fetchedAtMs: readAtMs,
        error: null,
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.current.error === null) {
        this.logger.warn('registry read failed; serving the last rows', { error: message });
      }
      this.current = { ...this.current, error: message };
    } finally {
      clearTimeout(timeout);
    }
  }
}
