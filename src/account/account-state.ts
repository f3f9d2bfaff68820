/**
 * One account's lifecycle: cooling down (until, why), signed out, half-open probing. Redis is the
 * truth shared by every process serving the account; account_state.json keeps the cooldown
 * through a restart or a Redis flush (the later end of the two wins when they meet).
 */
import { ServiceUnavailableError } from '../errors.ts';
import { AccountRecord } from './account-record.ts';
import type { AccountStateOptions } from './account-state-options.ts';
import {
  DEFAULT_KEY_PREFIX,
  MemoryAccountStore,
  RedisAccountStore,
  accountKeys,
  storedFromHash,
} from './account-store.ts';
import {
  coolingError,
  laterOf,
  loginRequiredError,
  newCooldown,
  probingError,
  retryAfterSeconds,
} from './cooldown.ts';
import { readStateFile } from './state-file.ts';
import type {
  AccountGuard,
  AccountSnapshot,
  Admission,
  ClaimedAccountRead,
  CooldownReason,
  LoginState,
} from './types.ts';

const NOT_PROBE: Admission = Object.freeze({ probe: false, token: null });

/** The account's state machine; see DESIGN.md's failure table. `close()` stops its sync timer. */
export class AccountState extends AccountRecord implements AccountGuard {
  /** The Redis hash of the shared record (what admit() reads); null when it is not in Redis. */
  readonly sharedRecordKey: string | null;
  private readonly sharedProbeKey: string | null;
  private readonly probeTtlMs: number;
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
    const shared =
      !options.store && options.redis
        ? accountKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX, options.account)
        : null;
    this.sharedRecordKey = shared?.hash ?? null;
    this.sharedProbeKey = shared?.probe ?? null;
    this.probeTtlMs = options.probeTtlMs ?? 330_000;
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
    return this.decide(null);
  }

  /**
   * admit()'s verdict on the record the line claim read in its own step (and the probe lock it
   * took there when the cooldown had ended), without a read of its own. The claim saw the account
   * servable, so a refusal here means this process knows a later cooldown (account_state.json
   * after a flushed Redis): the probe the claim took is given back.
   */
  async admitRead(read: ClaimedAccountRead): Promise<Admission> {
    await this.syncWith(async () => storedFromHash(read.hash, read.probing), false);
    return this.decide(read.probeToken);
  }

  /** The probe lock's key and ttl, for a line claim that takes it (null without Redis). */
  get sharedProbe(): { readonly key: string; readonly ttlMs: number } | null {
    return this.sharedProbeKey === null
      ? null
      : { key: this.sharedProbeKey, ttlMs: this.probeTtlMs };
  }

  private async decide(taken: string | null): Promise<Admission> {
    const now = this.now();
    const c = this.cooldown;
    try {
      this.assertServable(now);
    } catch (err) {
      if (taken) {
        await this.write(() => this.store.releaseProbe(taken));
      }
      throw err;
    }
    if (!c) {
      if (taken) {
        await this.write(() => this.store.releaseProbe(taken));
      }
      return NOT_PROBE;
    }
    let token = taken;
    if (!token) {
      try {
        token = await this.store.acquireProbe(this.probeTtlMs, now);
      } catch (err) {
        throw new ServiceUnavailableError('The account state store (Redis) is unavailable.', 5, {
          cause: err,
        });
      }
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
