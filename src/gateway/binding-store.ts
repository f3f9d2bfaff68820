/**
 * @module gateway/binding-store
 * Bindings in PostgreSQL (migration 0002): a conversation id, a history-prefix key, an upload's
 * file id or an image path, each bound to the node that holds it, so every gateway replica routes
 * it there. Saves are written behind, batched: under load one upsert carries many answers'
 * bindings, so they never crowd the registry reads out of the pool. The bindings this replica
 * saved or read lately are kept in a bounded LRU (binding-cache.ts): a lookup whose preferred key
 * is there, learned within cacheTtlMs, never touches PostgreSQL; anything else is read there,
 * so a binding another replica wrote is still found. While PostgreSQL is away, lookups answer
 * from that memory whatever its age, and failed writes are retried.
 */
import type pg from 'pg';
import type { Logger } from '../logging.ts';
import { BindingCache } from './binding-cache.ts';
import type { Binding, BindingStore } from './types.ts';

const LOOKUP_SQL = `
  select key, node_url, account from gemini_conversation_bindings where key = any($1::text[])`;

const SAVE_SQL = `
  insert into gemini_conversation_bindings (key, node_url, account, updated_at)
  select k, n, a, now() from unnest($1::text[], $2::text[], $3::text[]) as b(k, n, a)
  on conflict (key) do update
    set node_url = excluded.node_url, account = excluded.account, updated_at = excluded.updated_at`;

const PRUNE_SQL = `
  delete from gemini_conversation_bindings
   where updated_at < now() - make_interval(secs => $1::double precision / 1000)
  returning key`;

/** Options of PgBindingStore. */
export interface PgBindingStoreOptions {
  /** How long a save may wait to be batched with others. */
  readonly flushMs?: number;
  /** A batch this large is written at once. */
  readonly maxBatch?: number;
  /** A lookup slower than this falls back to memory. */
  readonly lookupTimeoutMs?: number;
  /** After a failed query, PostgreSQL is skipped for this long (lookups answer from memory). */
  readonly backoffMs?: number;
  /** Bindings remembered (the LRU's bound, and unwritten ones kept while PostgreSQL is away). */
  readonly maxRemembered?: number;
  /**
   * A remembered binding answers lookups from memory for this long after this replica saved or
   * read it; then PostgreSQL is asked again (another replica may have moved the key since).
   */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

/** The PostgreSQL binding store; close() writes what is pending. */
export class PgBindingStore implements BindingStore {
  private pending = new Map<string, Binding>();
  /** Recently saved or read bindings. */
  private readonly recent: BindingCache;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private skipUntilMs = 0;
  private closed = false;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly lookupTimeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxRemembered: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    options: PgBindingStoreOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 50;
    this.maxBatch = options.maxBatch ?? 500;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? 1000;
    this.backoffMs = options.backoffMs ?? 2000;
    this.maxRemembered = options.maxRemembered ?? 50_000;
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.recent = new BindingCache(this.maxRemembered);
  }

  /**
   * The binding of the first key that has one; pending saves count. From memory when the
   * preferred key was learned lately, else from PostgreSQL. Never waits on a dead DB.
   */
  async lookup(keys: readonly string[]): Promise<Binding | null> {
    const preferred = keys[0];
    if (preferred === undefined) {
      return null;
    }
    const now = this.now();
    // Only the preferred key may answer from memory: a later one could be outranked by a key
    // another replica bound, which only PostgreSQL knows.
    const known = this.pending.get(preferred) ?? this.recent.get(preferred, now - this.cacheTtlMs);
    if (known) {
      return known;
    }
    const rows = await this.query(keys);
    // The caller's order is its preference (the history key before the conversation_id).
    for (const key of keys) {
      const row = rows?.find((r) => r.key === key);
      const stored = row && { nodeUrl: row.node_url, account: row.account };
      const binding = this.pending.get(key) ?? stored ?? (rows ? undefined : this.recent.get(key));
      if (binding) {
        if (binding === stored) {
          this.recent.set(key, stored, now);
        }
        return binding;
      }
    }
    return null;
  }

  /** Queues the keys; they are written within flushMs (failures are logged and retried). */
  async save(keys: readonly string[], binding: Binding): Promise<void> {
    const now = this.now();
    keys.forEach((k) => {
      this.pending.set(k, binding);
      this.recent.set(k, binding, now);
    });
    if (this.pending.size >= this.maxBatch) {
      void this.flush();
    } else {
      this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    }
  }

  /** Writes every pending binding now; resolves when the write (and any before it) is done. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = new Map();
    // One write at a time, in order, so a later binding of a key never loses to an earlier one.
    this.writing = this.writing.then(() => (batch.size > 0 ? this.write(batch) : undefined));
    return this.writing;
  }

  /** Deletes bindings untouched for olderThanMs, here and in PostgreSQL; returns how many. */
  async prune(olderThanMs: number): Promise<number> {
    const result = await this.pool.query<{ key: string }>(PRUNE_SQL, [olderThanMs]);
    // This replica stops answering them from memory too (others forget them within cacheTtlMs).
    result.rows.forEach((row) => this.recent.delete(row.key));
    return result.rowCount ?? 0;
  }

  /** Writes what is pending (once: what fails then is lost). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** The rows for `keys`, or null when PostgreSQL is away (failed, slow, or backing off). */
  private async query(
    keys: readonly string[],
  ): Promise<{ key: string; node_url: string; account: string | null }[] | null> {
    if (this.now() < this.skipUntilMs) {
      return null;
    }
    let timeout: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        this.pool.query<{ key: string; node_url: string; account: string | null }>(LOOKUP_SQL, [
          keys,
        ]),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`lookup took over ${this.lookupTimeoutMs} ms`)),
            this.lookupTimeoutMs,
          );
        }),
      ]);
      return result.rows;
    } catch (err) {
      this.backOff('binding lookup failed; answering from memory', err);
      return null;
    } finally {
      clearTimeout(timeout);
    }
  }

  private async write(batch: ReadonlyMap<string, Binding>): Promise<void> {
    const keys = [...batch.keys()];
    const bindings = [...batch.values()];
    try {
      await this.pool.query(SAVE_SQL, [
        keys,
        bindings.map((b) => b.nodeUrl),
        bindings.map((b) => b.account),
      ]);
    } catch (err) {
      this.backOff('binding save failed; will retry', err, keys.length);
      if (!this.closed) {
        this.requeue(batch);
      }
    }
  }

  /** Puts a failed batch back (newer saves of a key win) and retries after the backoff. */
  private requeue(batch: ReadonlyMap<string, Binding>): void {
    const newer = this.pending;
    this.pending = new Map([...batch].filter(([k]) => !newer.has(k)));
    newer.forEach((b, k) => this.pending.set(k, b));
    for (const key of this.pending.keys()) {
      if (this.pending.size <= this.maxRemembered) {
        break;
      }
      this.pending.delete(key);
    }
    this.timer ??= setTimeout(() => void this.flush(), this.backoffMs);
    this.timer.unref();
  }

  private backOff(message: string, err: unknown, count?: number): void {
    if (this.now() >= this.skipUntilMs) {
      this.logger.warn(message, {
        ...(count === undefined ? {} : { count }),
        error: err instanceof Error ? err.message : String(err),
      });
    }
    this.skipUntilMs = this.now() + this.backoffMs;
  }
}
