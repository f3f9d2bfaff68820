/**
 * The queue limit, atomic across processes: a job holds a slot from before it is added until it
 * ends, taken by claimLine's Lua script, which counts and adds in one step. Slots expire on their
 * own, so a process that died holding one cannot shrink the queue for long.
 */
import type { Redis } from 'ioredis';
import { RateLimitError, ServiceUnavailableError } from '../errors.ts';
import type { ClaimAnswer } from './line-claim.ts';

/** Slots of one account's queue. */
export interface QueueSlots {
  /** Frees the slot of job `id` (idempotent). */
  release(id: string): Promise<void>;
  /** Slots held now (expired ones included until the next take). */
  held(): Promise<number>;
}

/** Slots kept in the sorted set at `key` (taken by claimLine, which counts and adds in one step). */
export function queueSlots(redis: Redis, key: string): QueueSlots {
  return {
    async release(id) {
      await redis.zrem(key, id);
    },
    held: () => redis.zcard(key),
  };
}

/**
 * The 503 for a queue whose Redis does not answer; `upstreamSent` when it is known whether the
 * prompt may have gone up (false lets the gateway fail over).
 */
export function queueUnavailable(cause?: unknown, upstreamSent?: boolean): ServiceUnavailableError {
  return new ServiceUnavailableError('The queue is unavailable (Redis is unreachable).', 5, {
    code: 'queue_unavailable',
    ...(cause === undefined ? {} : { cause }),
    ...(upstreamSent === undefined ? {} : { upstreamSent }),
  });
}

/**
 * Claims the line for job `id` (see claimLine), or throws 429 queue_full at once (503 when Redis
 * fails: never sent, as a job claimed for this process runs only once its claim answered).
 */
export async function claimOrRefuse(
  claim: () => Promise<ClaimAnswer>,
  limit: { readonly max: number; readonly retryAfterS: number },
): Promise<ClaimAnswer> {
  let claimed: ClaimAnswer;
  try {
    claimed = await claim();
  } catch (err) {
    throw queueUnavailable(err, false);
  }
  if (claimed.claim === 'full') {
    throw new RateLimitError(
      `The account's queue is full (${limit.max} requests); retry later.`,
      limit.retryAfterS,
      { code: 'queue_full' },
    );
  }
  return claimed;
}
