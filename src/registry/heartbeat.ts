/**
 * The heartbeat: upserts this node's row every interval. While PostgreSQL is away it keeps trying
 * with a growing delay, logs once per change (lost, back), and registers again when it returns;
 * a missing table (a fresh database) is migrated on the spot. `close()` writes OFFLINE.
 */
import type pg from 'pg';
import { createLogger, type Logger } from '../logging.ts';
import { migrate } from './migrate.ts';
import {
  nodeStatus,
  type NodeIdentity,
  type NodeSnapshot,
  type NodeStatus,
} from './node-status.ts';
import { upsertNode } from './nodes.ts';

export interface HeartbeatOptions {
  readonly pool: pg.Pool;
  readonly identity: NodeIdentity;
  /** Called at every beat. */
  readonly snapshot: () => NodeSnapshot | Promise<NodeSnapshot>;
  /** config.heartbeatIntervalMs. */
  readonly intervalMs: number;
  /** Longest pause between attempts while PostgreSQL is away. */
  readonly maxBackoffMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

// A fresh database (no table), or one an older release migrated (a newer column missing).
const NEEDS_MIGRATION = new Set(['42P01', '42703']);

/** Periodic registration of this node. Lifecycle: start(), close(). */
export class Heartbeat {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<boolean> | null = null;
  private failures = 0;
  private reachable: boolean | null = null;
  private lastStatus: NodeStatus | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: HeartbeatOptions) {
    this.log = options.logger ?? createLogger({ silent: true });
  }

  /** The status written by the last successful beat. */
  get status(): NodeStatus | null {
    return this.lastStatus;
  }

  /** Whether the last beat reached PostgreSQL (null before the first). */
  get healthy(): boolean | null {
    return this.reachable;
  }

  /** Beats now, then every interval. */
  start(): void {
    if (this.timer || this.closing) {
      return;
    }
    this.schedule(0);
  }

  /** One beat now (e.g. right after a status change); true when the row was written. */
  beat(): Promise<boolean> {
    this.inFlight ??= this.write().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Stops beating and writes OFFLINE once (best effort); idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.inFlight;
    try {
      const snap = await this.options.snapshot();
      await upsertNode(
        this.options.pool,
        this.options.identity,
        { ...snap, currentTasks: 0 },
        'OFFLINE',
      );
      this.lastStatus = 'OFFLINE';
    } catch (err) {
      this.log.warn('could not write OFFLINE to the registry', { err: errMessage(err) });
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.beat().then((ok) => {
        if (!this.closing) {
          this.schedule(ok ? this.options.intervalMs : this.backoffMs());
        }
      });
    }, delayMs);
    this.timer.unref();
  }

  private backoffMs(): number {
    const max = this.options.maxBackoffMs ?? 30_000;
    return Math.min(this.options.intervalMs * 2 ** Math.max(0, this.failures - 1), max);
  }

  private async write(): Promise<boolean> {
    if (this.closing) {
      return false;
    }
    try {
      const snap = await this.options.snapshot();
      const status = nodeStatus(snap, (this.options.now ?? Date.now)());
      await this.upsert(snap, status);
      this.lastStatus = status;
      this.failures = 0;
      this.setReachable(true);
      return true;
    } catch (err) {
      this.failures += 1;
      this.setReachable(false, err);
      return false;
    }
  }

  private async upsert(snap: NodeSnapshot, status: NodeStatus): Promise<void> {
    try {
      await upsertNode(this.options.pool, this.options.identity, snap, status);
    } catch (err) {
      if (!NEEDS_MIGRATION.has(String((err as { code?: unknown }).code))) {
        throw err;
      }
      // A database that came back empty, or behind this release: migrate and register again.
      await migrate(this.options.pool, { logger: this.log });
      await upsertNode(this.options.pool, this.options.identity, snap, status);
    }
  }

  private setReachable(ok: boolean, err?: unknown): void {
    if (ok !== this.reachable) {
      if (ok) {
        this.log.info('registry heartbeat ok', { nodeUrl: this.options.identity.nodeUrl });
      } else {
        this.log.warn('registry unreachable; retrying with backoff', { err: errMessage(err) });
      }
    }
    this.reachable = ok;
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
