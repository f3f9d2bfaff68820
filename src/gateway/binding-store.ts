/**
 * @module gateway/binding-store
 * Conversation bindings in PostgreSQL (migration 0002), so every gateway replica routes a
 * conversation to the account that holds it. Saves are written behind, batched: under load one
 * upsert carries many answers' bindings, so they never crowd the registry reads out of the pool.
 */
import type pg from 'pg';
import type { Logger } from '../logging.ts';
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
   where updated_at < now() - make_interval(secs => $1::double precision / 1000)`;

/** Options of PgBindingStore. */
export interface PgBindingStoreOptions {
  /** How long a save may wait to be batched with others. */
  readonly flushMs?: number;
  /** A batch this large is written at once. */
  readonly maxBatch?: number;
}

/** The PostgreSQL binding store; close() writes what is pending. */
export class PgBindingStore implements BindingStore {
  private pending = new Map<string, Binding>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    options: PgBindingStoreOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 50;
    this.maxBatch = options.maxBatch ?? 500;
  }

  /** The binding of the first key that has one; pending saves count. */
  async lookup(keys: readonly string[]): Promise<Binding | null> {
    if (keys.length === 0) {
      return null;
    }
    const { rows } = await this.pool.query<{
      key: string;
      node_url: string;
      account: string | null;
    }>(LOOKUP_SQL, [keys]);
    // The caller's order is its preference (conversation_id before the history key).
    for (const key of keys) {
      const row = rows.find((r) => r.key === key);
      const binding =
        this.pending.get(key) ?? (row && { nodeUrl: row.node_url, account: row.account });
      if (binding) {
        return binding;
      }
    }
    return null;
  }

  /** Queues the keys; they are written within flushMs (failures are logged, not thrown). */
  async save(keys: readonly string[], binding: Binding): Promise<void> {
    keys.forEach((k) => this.pending.set(k, binding));
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

  /** Deletes bindings untouched for olderThanMs; returns how many. */
  async prune(olderThanMs: number): Promise<number> {
    const result = await this.pool.query(PRUNE_SQL, [olderThanMs]);
    return result.rowCount ?? 0;
  }

  /** Writes what is pending. Idempotent. */
  async close(): Promise<void> {
    await this.flush();
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
      // Affinity is an optimisation: these conversations replay their history elsewhere.
      this.logger.warn('binding save failed', {
        count: keys.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
