/**
 * @module gateway/types
 * The gateway's view of one registry row and of a conversation binding. Times are on the
 * gateway's own clock: ages read from PostgreSQL's `now()` are rebased when the row is read, so a
 * skew between hosts never makes a node look fresh or stale.
 */

/** One row of gemini_service_nodes, as the gateway uses it. */
export interface NodeRecord {
  readonly nodeUrl: string;
  readonly workerId: string | null;
  readonly account: string | null;
  readonly weight: number;
  /** HEALTHY | BUSY | INIT | 429_LIMIT | OFFLINE, or whatever an unknown writer put there. */
  readonly status: string;
  /** logged_in | login_required | browser_unreachable | unknown; null from seed workers. */
  readonly loginState: string | null;
  /** Epoch ms on the gateway's clock; null when the worker never beat. */
  readonly lastHeartbeatMs: number | null;
  /** Epoch ms on the gateway's clock; null when not cooling. */
  readonly cooldownUntilMs: number | null;
  readonly cooldownReason: string | null;
  readonly currentTasks: number;
  readonly dispatchedTasks: number;
  readonly queueWaiting: number | null;
  readonly version: string | null;
  readonly models: readonly string[];
  /** Other names of those models (gemini-3-pro for gemini-3.0-pro…), from model_details. */
  readonly modelAliases?: readonly string[];
  /** The account's tier as discovery found it; null until known or from older workers. */
  readonly tier?: string | null;
  /** The otAQ7b account status code (1000 ok, 1016 guest, 1060 region). */
  readonly accountStatus?: number | null;
  /** Protocol drift the node counted, by kind. */
  readonly protocolDrift?: Readonly<Record<string, number>>;
  /** Epoch ms; the row's created_at. */
  readonly createdAtMs: number | null;
  /** An operator drained the node (migration 0004): it is never chosen. */
  readonly draining?: boolean;
}

/** Where a conversation lives: the node that answered it last, and that node's account. */
export interface Binding {
  readonly nodeUrl: string;
  readonly account: string | null;
}

/** Conversation bindings shared by every gateway replica. */
export interface BindingStore {
  /** The binding of the first key that has one, or null. */
  lookup(keys: readonly string[]): Promise<Binding | null>;
  /** Binds every key to the node (upsert). */
  save(keys: readonly string[], binding: Binding): Promise<void>;
  /** Writes saves still batched, if the store batches them. */
  flush?(): Promise<void>;
}

/** The latest registry snapshot. */
export interface RegistrySnapshot {
  readonly nodes: readonly NodeRecord[];
  /** Epoch ms of the last successful read; 0 before the first. */
  readonly fetchedAtMs: number;
  /** The last read's failure, kept while stale rows are served; null after a success. */
  readonly error: string | null;
  /** True once reads have failed for longer than the gateway may route on an old table. */
  readonly expired?: boolean;
}

/** Anything that hands out the current registry snapshot without waiting. */
export interface NodeProvider {
  snapshot(): RegistrySnapshot;
}
