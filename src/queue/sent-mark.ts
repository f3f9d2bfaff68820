/**
 * The Redis "sent" mark of a job: written (SET NX) right before its first upstream send, so that a
 * job run a second time (stalled, recovered, re-added) finds it and never sends again.
 */
import type { Redis } from 'ioredis';
import {
  AppError,
  ServiceUnavailableError,
  UpstreamOutcomeUnknownError,
  parseError,
  serializeError,
} from '../errors.ts';

/** The mark of one job. */
export interface SentMark {
  /** Throws when an earlier run of this job already sent it. */
  assertUnsent(): Promise<void>;
  /** Marks the job sent; throws when it was marked already, or Redis cannot say. */
  mark(): Promise<void>;
}

function alreadySent(): UpstreamOutcomeUnknownError {
  return new UpstreamOutcomeUnknownError(
    'an earlier run of this request already sent it to Gemini before its worker stopped',
  );
}

function markUnavailable(cause: unknown): ServiceUnavailableError {
  // Without the mark, a second run could not know: better not to send at all.
  return new ServiceUnavailableError(
    'The queue (Redis) is unavailable; the prompt was not sent.',
    5,
    { code: 'queue_unavailable', cause, upstreamSent: false },
  );
}

/** The mark stored at `key`, kept for `ttlMs` (longer than any run of the job). */
export function sentMark(redis: Redis, key: string, ttlMs: number): SentMark {
  return {
    async assertUnsent() {
      let exists: number;
      try {
        exists = await redis.exists(key);
      } catch (err) {
        throw markUnavailable(err);
      }
      if (exists) {
        throw alreadySent();
      }
    },
    async mark() {
      let set: string | null;
      try {
        set = await redis.set(key, String(Date.now()), 'PX', ttlMs, 'NX');
      } catch (err) {
        throw markUnavailable(err);
      }
      if (set !== 'OK') {
        throw alreadySent();
      }
    },
  };
}

/** Whether the job's mark exists; true when Redis cannot say (the safe answer for a failover). */
export async function wasMarkedSent(redis: Redis, key: string): Promise<boolean> {
  try {
    return (await redis.exists(key)) === 1;
  } catch {
    return true;
  }
}

/**
 * Says on an error raised on the waiting side (worker lost, run timeout, queue closing) whether
 * the prompt may have gone upstream: never when the job had not started, else the job's mark.
 */
export async function withUpstreamSent(
  err: unknown,
  started: boolean,
  redis: Redis,
  key: string,
): Promise<unknown> {
  if (!(err instanceof AppError) || err.upstreamSent !== undefined) {
    return err;
  }
  const upstreamSent = started && (await wasMarkedSent(redis, key));
  return parseError(serializeError(err, { upstreamSent }));
}
