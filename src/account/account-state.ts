/**
 * One account's lifecycle: cooling down (until, why), signed out, half-open probing. Redis is the
 * truth shared by every process serving the account; account_state.json keeps the cooldown
 * through a restart or a Redis flush (the later end of the two wins when they meet).
 */
import type { Redis } from 'ioredis';
import { ServiceUnavailableError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { AccountRecord } from './account-record.ts';
import {
  DEFAULT_KEY_PREFIX,
  MemoryAccountStore,
  RedisAccountStore,
  accountKeys,
  type AccountStore,
} from './account-store.ts';
import {
  coolingError,
  laterOf,
  loginRequiredError,
  newCooldown,
  probingError,
  retryAfterSeconds,
  type CooldownConfig,
} from './cooldown.ts';
import { readStateFile } from './state-file.ts';
import type {
  AccountGuard,
  AccountSnapshot,
  Admission,
  CooldownReason,
  LoginState,
} from './types.ts';

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

const NOT_PROBE: Admission = Object.freeze({ probe: false, token: null });

/** The account's state machine; see DESIGN.md's failure table. `close()` stops its sync timer. */
export class AccountState extends AccountRecord implements AccountGuard {
  /** The Redis hash of the shared record (what admit() reads); null when it is not in Redis. */
  readonly sharedRecordKey: string | null;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(private readonly options: AccountStateOptions) {
    super(
      options.store ??
        (options.redis
          ? new RedisAccountStore(options.redis, options.account, options.keyPrefix)
          : new MemoryAccountStore()),
      options,
    );
    this.random = options.random ?? Math.random;
    this.sharedRecordKey =
      !options.store && options.redis
        ? accountKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX, options.account).hash
        : null;
  }

  /** Loads account_state.json and the shared record, reconciles them, and starts syncing. */
  static async open(options: AccountStateOptions): Promise<AccountState> {
    const state = new AccountState(options);
    state.seedFromFile(await readStateFile(options.dataDir, options.account));
    await state.store.waitReady?.(options.openTimeoutMs ?? 3000);
    await state.sync();
    const intervalMs = options.syncIntervalMs ?? 2000;
    if (intervalMs > 0) {
      state.timer = setInterval(() => void state.sync(), intervalMs);
      state.timer.unref();
    }
    return state;
  }

  /**
   * Lets a request go upstream, or throws: 429 while cooling (Retry-After to the end), 503 while
   * signed out, 429 with a short Retry-After while another request probes. After a cooldown the
   * first caller becomes the probe.
   */
  async admit(): Promise<Admission> {
    await this.sync();
    const now = this.now();
    this.assertServable(now);
    const c = this.cooldown;
    if (!c) {
      return NOT_PROBE;
    }
    let token: string | null;
    try {
      token = await this.store.acquireProbe(this.options.probeTtlMs ?? 330_000, now);
    } catch (err) {
      throw new ServiceUnavailableError('The account state store (Redis) is unavailable.', 5, {
        cause: err,
      });
    }
    if (!token) {
      throw probingError(this.options.probeRetryAfterS ?? 5);
    }
    this.heldProbe = token;
    this.log.info('cooldown ended; probing the account', {
      account: this.account,
      reason: c.reason,
    });
    await this.settle();
    return { probe: true, token };
  }

  /**
   * The same verdict as admit() without taking the probe: a cheap fast-fail before queueing.
   * When this process last saw the account servable it answers from memory (the periodic sync
   * and every admit() refresh that view): a stale "servable" only lets a request into the queue,
   * where admit() re-reads Redis before anything is sent. Any other view is re-read first, so a
   * cooldown another process just ended never refuses a request.
   */
  async check(): Promise<void> {
    if (!this.servableAsLastSeen()) {
      await this.sync();
    }
    this.assertServable(this.now());
    if (this.cooldown && (this.probingElsewhere || this.heldProbe)) {
      throw probingError(this.options.probeRetryAfterS ?? 5);
    }
  }

  /** A generation finished: the session works, and a probe's success ends the cooldown. */
  async recordSuccess(admission: Admission): Promise<void> {
    const now = this.now();
    // At most one write per few seconds: it only tells "this account has served".
    const stale = this.lastSuccessAt === null || now - this.lastSuccessAt >= 5000;
    this.lastSuccessAt = now;
    if (stale) {
      await this.write(() => this.store.recordSuccess(now));
    }
    if (this.loginState !== 'logged_in') {
      this.loginState = 'logged_in';
      await this.write(() => this.store.setLoginState('logged_in', now));
    }
    if (admission.probe && this.cooldown) {
      this.log.info('probe succeeded; cooldown cleared', { account: this.account });
      this.cooldown = null;
      await this.write(() => this.store.clearCooldown(now));
    }
    await this.release(admission);
    await this.settle();
  }

  /** Starts or extends a cooldown (base for the reason, plus jitter); returns Retry-After seconds. */
  async coolDown(
    reason: CooldownReason,
    admission?: Admission,
    durationMs?: number,
  ): Promise<number> {
    const now = this.now();
    const wanted = newCooldown(reason, now, this.options.cooldown, this.random, durationMs);
    let stored = laterOf(this.cooldown, wanted);
    await this.write(async () => {
      stored = await this.store.extendCooldown(wanted, now);
    });
    this.cooldown = stored;
    this.log.warn('account cooling down', { account: this.account, reason, until: stored?.until });
    if (admission) {
      await this.release(admission);
    }
    await this.settle();
    return retryAfterSeconds(stored?.until ?? wanted.until, now);
  }

  /** An auth failure survived the client's refresh: refuse with 503 until signed in again. */
  async markLoginRequired(admission?: Admission): Promise<number> {
    await this.setLoginState('login_required');
    if (admission) {
      await this.release(admission);
    }
    return this.options.loginRetryAfterS ?? 30;
  }

  /** Records what the browser saw; `logged_in` after `login_required` resumes service. */
  async setLoginState(state: LoginState): Promise<void> {
    if (state !== this.loginState) {
      this.log.info('login state changed', {
        account: this.account,
        from: this.loginState,
        to: state,
      });
    }
    this.loginState = state;
    const now = this.now();
    await this.write(() => this.store.setLoginState(state, now));
    await this.settle();
  }

  /** Frees the probe lock of a request that taught nothing about the account. */
  async release(admission: Admission): Promise<void> {
    if (!admission.token || admission.token !== this.heldProbe) {
      return;
    }
    this.heldProbe = null;
    const token = admission.token;
    await this.write(() => this.store.releaseProbe(token));
    await this.settle();
  }

  /** Ends a cooldown by hand and forgets a signed-out verdict (the browser re-checks it). */
  async reset(): Promise<AccountSnapshot> {
    const now = this.now();
    const loginState = this.loginState === 'login_required' ? 'unknown' : this.loginState;
    try {
      await this.store.clearCooldown(now);
      await this.store.clearProbe();
      await this.store.setLoginState(loginState, now);
    } catch (err) {
      throw new ServiceUnavailableError('Could not reset: Redis is unavailable.', 5, {
        cause: err,
      });
    }
    this.cooldown = null;
    this.heldProbe = null;
    this.probingElsewhere = false;
    this.loginState = loginState;
    this.log.info('account state reset by hand', { account: this.account });
    return this.settle();
  }

  /** Stops syncing; idempotent. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    if (this.timer) {
      clearInterval(this.timer);
    }
    this.clearListeners();
  }

  private servableAsLastSeen(): boolean {
    return (
      this.loginState !== 'login_required' &&
      this.cooldown === null &&
      !this.probingElsewhere &&
      this.heldProbe === null
    );
  }

  private assertServable(now: number): void {
    if (this.loginState === 'login_required') {
      throw loginRequiredError(this.options.loginRetryAfterS ?? 30);
    }
    if (this.cooldown && now < this.cooldown.until) {
      throw coolingError(this.cooldown, now);
    }
  }
}
