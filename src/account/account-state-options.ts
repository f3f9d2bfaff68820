/**
 * How an AccountState is opened: the account, where its state lives, and its timings.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logging.ts';
import type { AccountStore } from './account-store.ts';
import type { CooldownConfig } from './cooldown.ts';

export interface AccountStateOptions {
  readonly account: string;
  /** DATA_DIR: holds account_state.json. */
  readonly dataDir: string;
  readonly cooldown: CooldownConfig;
  /** Shared truth across processes; without it (and without `store`) state is process-local. */
  readonly redis?: Redis;
  /** Prefix of the Redis keys (tests isolate with it). */
  readonly keyPrefix?: string;
  /** Overrides the store built from `redis` (unit tests). */
  readonly store?: AccountStore;
  /** How long a probe may hold its lock before another may try; covers a crashed probe. */
  readonly probeTtlMs?: number;
  /** Retry-After given to requests refused while the probe runs. */
  readonly probeRetryAfterS?: number;
  /** Retry-After given while the account is signed out. */
  readonly loginRetryAfterS?: number;
  /** How long open() waits for the shared store before starting on local state alone. */
  readonly openTimeoutMs?: number;
  /** How often the shared state is re-read for snapshots and change events; 0 turns it off. */
  readonly syncIntervalMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}
