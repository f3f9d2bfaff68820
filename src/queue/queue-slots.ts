/**
 * The queue limit, atomic across processes: a job holds a slot from before it is added until it
 * ends, taken by a Lua script that counts and adds in one step. Slots expire on their own, so a
 * process that died holding one cannot shrink the queue for long.
 */
import type { Redis } from 'ioredis';
import { RateLimitError, ServiceUnavailableError } from '../errors.ts';

// KEYS[1]: the slot set (score: expiry, ms). ARGV: id, max, ttlMs. Returns 1 when taken.
const TAKE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** Slots of one account's queue. */
export interface QueueSlots {
  /** Takes a slot for job `id`; false when all `max` are held. */
  take(id: string, max: number): Promise<boolean>;
  /** Frees the slot of job `id` (idempotent). */
  release(id: string): Promise<void>;
  /** Slots held now (expired ones included until the next take). */
  held(): Promise<number>;
}

/** The connection with the slot script defined on it (EVALSHA: the body is not resent each time). */
type WithTakeSlot = Redis & {
  gkTakeSlot(key: string, id: string, max: string, ttlMs: string): Promise<number>;
};

/** Slots kept in the sorted set at `key`; each lasts at most `ttlMs`. */
export function queueSlots(redis: Redis, key: string, ttlMs: number): QueueSlots {
  const scripted = redis as WithTakeSlot;
  if (typeof scripted.gkTakeSlot !== 'function') {
    redis.defineCommand('gkTakeSlot', { numberOfKeys: 1, lua: TAKE_SLOT });
  }
  return {
    async take(id, max) {
      const taken = await scripted.gkTakeSlot(key, id, String(max), String(ttlMs));
      return taken === 1;
    },
    async release(id) {
      await redis.zrem(key, id);
    },
    held: () => redis.zcard(key),
  };
}

/** The 503 for a queue whose Redis does not answer. */
export function queueUnavailable(cause?: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('The queue is unavailable (Redis is unreachable).', 5, {
    code: 'queue_unavailable',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Takes a slot for job `id`, or throws 429 queue_full at once (503 when Redis fails). */
export async function takeSlotOrRefuse(
  slots: QueueSlots,
  id: string,
  limit: { readonly max: number; readonly retryAfterS: number },
): Promise<void> {
  let taken: boolean;
  try {
    taken = await slots.take(id, limit.max);
  } catch (err) {
    throw queueUnavailable(err);
  }
  if (!taken) {
    throw new RateLimitError(
      `The account's queue is full (${limit.max} requests); retry later.`,
      limit.retryAfterS,
      { code: 'queue_full' },
    );
  }
}
