/**
 * Where an account's shared state lives. Redis is the truth shared by every process serving the
 * account; the in-memory store serves a single process (unit tests, a worker without Redis).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { readyWithin, redisScript } from '../redis/index.ts';
import type { Cooldown, CooldownReason, LoginState } from './types.ts';

/** The shared record of one account. */
export interface StoredAccount {
  readonly cooldown: Cooldown | null;
  readonly loginState: LoginState;
  readonly lastSuccessAt: number | null;
  /** A probe lock is held. */
  readonly probing: boolean;
}

/** Storage operations AccountState needs; every write is atomic in the backing store. */
export interface AccountStore {
  /** Resolves once the store can answer, or after `timeoutMs` (state then starts local). */
  waitReady?(timeoutMs: number): Promise<void>;
  /** The record, or null when none exists (first start, or a flushed Redis). */
  load(): Promise<StoredAccount | null>;
  /** Stores `cooldown` unless a later one is stored; returns what is stored afterwards. */
  extendCooldown(cooldown: Cooldown, nowMs: number): Promise<Cooldown>;
  clearCooldown(nowMs: number): Promise<void>;
  setLoginState(state: LoginState, nowMs: number): Promise<void>;
  recordSuccess(nowMs: number): Promise<void>;
  /** Takes the probe lock for `ttlMs`; returns its token, or null when someone holds it. */
  acquireProbe(ttlMs: number, nowMs: number): Promise<string | null>;
  /** Frees the probe lock if `token` still holds it. */
  releaseProbe(token: string): Promise<void>;
  /** Frees the probe lock whoever holds it (manual reset). */
  clearProbe(): Promise<void>;
}

const LOGIN_STATES: readonly LoginState[] = [
  'logged_in',
  'login_required',
  'browser_unreachable',
  'unknown',
];

function asLoginState(value: string | undefined): LoginState {
  return LOGIN_STATES.find((s) => s === value) ?? 'unknown';
}

/** A single process's store: the same semantics as Redis, without sharing. */
export class MemoryAccountStore implements AccountStore {
  private record: Omit<StoredAccount, 'probing'> | null = null;
  private probe: { token: string; expiresAt: number } | null = null;

  async load(): Promise<StoredAccount | null> {
    return this.record && { ...this.record, probing: this.probe !== null };
  }

  async extendCooldown(cooldown: Cooldown, _nowMs: number): Promise<Cooldown> {
    const current = this.ensure();
    if (!current.cooldown || cooldown.until > current.cooldown.until) {
      this.record = { ...current, cooldown };
    }
    return this.ensure().cooldown ?? cooldown;
  }

  async clearCooldown(): Promise<void> {
    this.record = { ...this.ensure(), cooldown: null };
  }

  async setLoginState(loginState: LoginState): Promise<void> {
    this.record = { ...this.ensure(), loginState };
  }

  async recordSuccess(nowMs: number): Promise<void> {
    this.record = { ...this.ensure(), lastSuccessAt: nowMs };
  }

  async acquireProbe(ttlMs: number, nowMs: number): Promise<string | null> {
    if (this.probe && this.probe.expiresAt > nowMs) {
      return null;
    }
    this.probe = { token: randomUUID(), expiresAt: nowMs + ttlMs };
    return this.probe.token;
  }

  async releaseProbe(token: string): Promise<void> {
    if (this.probe?.token === token) {
      this.probe = null;
    }
  }

  async clearProbe(): Promise<void> {
    this.probe = null;
  }

  private ensure(): Omit<StoredAccount, 'probing'> {
    this.record ??= { cooldown: null, loginState: 'unknown', lastSuccessAt: null };
    return this.record;
  }
}

// Keeps the later of two cooldown ends, atomically, so two processes cannot shorten each other's.
const EXTEND_COOLDOWN = redisScript<[string | null, string | null]>(
  'gkExtendCooldown',
  1,
  `
local cur = tonumber(redis.call('HGET', KEYS[1], 'cooldown_until') or '0') or 0
if tonumber(ARGV[1]) > cur then
  redis.call('HSET', KEYS[1], 'cooldown_until', ARGV[1], 'cooldown_reason', ARGV[2])
end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
return redis.call('HMGET', KEYS[1], 'cooldown_until', 'cooldown_reason')`,
);

const RELEASE_PROBE = redisScript<number>(
  'gkReleaseProbe',
  1,
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);

// The account's hash (as HGETALL's flat list) and whether a probe lock is held, in one step.
const LOAD_ACCOUNT = redisScript<[string[], number]>(
  'gkLoadAccount',
  2,
  `return {redis.call('HGETALL', KEYS[1]), redis.call('EXISTS', KEYS[2])}`,
);

/** The record held in the account's Redis hash `h`; null when the hash is empty. */
export function storedFromHash(h: Record<string, string>, probing: boolean): StoredAccount | null {
  if (Object.keys(h).length === 0) {
    return null;
  }
  const until = Number(h['cooldown_until'] ?? 0);
  const reason = h['cooldown_reason'] ?? '';
  const lastSuccessAt = Number(h['last_success_at'] ?? 0);
  return {
    cooldown: until > 0 && reason ? { until, reason: reason as CooldownReason } : null,
    loginState: asLoginState(h['login_state']),
    lastSuccessAt: lastSuccessAt > 0 ? lastSuccessAt : null,
    probing,
  };
}

/** The prefix of an account's Redis keys unless told otherwise. */
export const DEFAULT_KEY_PREFIX = 'gk:';

/** Redis keys of one account under `keyPrefix`. */
export function accountKeys(keyPrefix: string, account: string): { hash: string; probe: string } {
  const hash = `${keyPrefix}account:${account}`;
  return { hash, probe: `${hash}:probe` };
}

/** The shared store: a hash per account plus a `SET NX PX` probe lock. */
export class RedisAccountStore implements AccountStore {
  private readonly keys: { hash: string; probe: string };

  constructor(
    private readonly redis: Redis,
    account: string,
    keyPrefix = DEFAULT_KEY_PREFIX,
  ) {
    this.keys = accountKeys(keyPrefix, account);
  }

  waitReady(timeoutMs: number): Promise<void> {
    return readyWithin(this.redis, timeoutMs);
  }

  async load(): Promise<StoredAccount | null> {
    // One script instead of a pipeline: on the latency path of every admission, and a pipeline
    // costs ioredis several times the CPU of one command.
    const keys = [this.keys.hash, this.keys.probe];
    const [flat, probing] = await LOAD_ACCOUNT.run(this.redis, keys, []);
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      h[flat[i]!] = flat[i + 1]!;
    }
    return storedFromHash(h, probing === 1);
  }

  async extendCooldown(cooldown: Cooldown, nowMs: number): Promise<Cooldown> {
    const stored = await EXTEND_COOLDOWN.run(
      this.redis,
      [this.keys.hash],
      [String(cooldown.until), cooldown.reason, String(nowMs)],
    );
    const until = Number(stored[0] ?? 0);
    return until > 0 && stored[1] ? { until, reason: stored[1] as CooldownReason } : cooldown;
  }

  async clearCooldown(nowMs: number): Promise<void> {
    await this.hset({ cooldown_until: '0', cooldown_reason: '' }, nowMs);
  }

  async setLoginState(state: LoginState, nowMs: number): Promise<void> {
    await this.hset({ login_state: state }, nowMs);
  }

  async recordSuccess(nowMs: number): Promise<void> {
    await this.hset({ last_success_at: String(nowMs) }, nowMs);
  }

  async acquireProbe(ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.redis.set(this.keys.probe, token, 'PX', Math.max(1, ttlMs), 'NX');
    return ok === 'OK' ? token : null;
  }

  async releaseProbe(token: string): Promise<void> {
    await RELEASE_PROBE.run(this.redis, [this.keys.probe], [token]);
  }

  async clearProbe(): Promise<void> {
    await this.redis.del(this.keys.probe);
  }

  private async hset(fields: Record<string, string>, nowMs: number): Promise<void> {
    await this.redis.hset(this.keys.hash, { ...fields, updated_at: String(nowMs) });
  }
}
