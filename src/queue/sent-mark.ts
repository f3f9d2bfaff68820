/**
 * The Redis "sent" mark of a job: written (SET NX) right before its first upstream send, so that a
 * job run a second time (stalled, recovered, re-added) finds it and never sends again. Beside it,
 * the "abandoned" mark: written by a caller that gave up on a job it could not be sure was added
 * (an add Redis may have run though its reply was lost), so that the job, if it exists, never
 * sends for nobody while the gateway sends the prompt elsewhere. Each mark is checked and written
 * in one script with the other, so exactly one of the two wins.
 */
import type { Redis } from 'ioredis';
import {
  AppError,
  ServiceUnavailableError,
  UpstreamOutcomeUnknownError,
  parseError,
  serializeError,
} from '../errors.ts';
import type { Logger } from '../logging.ts';
import { readyWithin, redisScript } from '../redis/index.ts';

// KEYS: 1 sent mark, 2 abandoned mark. ARGV: 1 now, 2 ttl ms, 3 write the mark (1|0).
// Returns -1: its caller gave up on it; 0: sent by an earlier run; 1: clear (and now marked).
const MARK = redisScript<number>(
  'gkMarkSent',
  2,
  `
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if ARGV[3] ~= '1' then return 1 - redis.call('EXISTS', KEYS[1]) end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0
`,
);

// KEYS: 1 abandoned mark, 2 sent mark. ARGV: 1 ttl ms. Returns 1 when the job was sent already.
const ABANDON = redisScript<number>(
  'gkAbandonJob',
  2,
  `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return redis.call('EXISTS', KEYS[2])
`,
);

/** How long a caller that gives up on its job waits for its connection before it cannot say. */
const ABANDON_READY_MS = 2000;

/** Where one job's marks live, and where a failed abandon is told. */
export interface JobMarks {
  readonly redis: Redis;
  readonly jobId: string;
  /** The job's "sent" mark; its "abandoned" mark is abandonedKeyOf(sentKey). */
  readonly sentKey: string;
  /** How long the abandoned mark is kept (as long as the sent mark). */
  readonly ttlMs: number;
  readonly logger: Logger;
}

/** The key of the "abandoned" mark of the job whose "sent" mark is `sentKey`. */
export const abandonedKeyOf = (sentKey: string): string => `${sentKey}:abandoned`;

/** The mark of one job. */
export interface SentMark {
  /** Throws when an earlier run of this job already sent it, or its caller gave up on it. */
  assertUnsent(): Promise<void>;
  /** Marks the job sent; throws when it was marked already, was abandoned, or Redis cannot say. */
  mark(): Promise<void>;
}

function alreadySent(): UpstreamOutcomeUnknownError {
  return new UpstreamOutcomeUnknownError(
    'an earlier run of this request already sent it to Gemini before its worker stopped',
  );
}

/** The refusal of a job nobody waits for any more (never sent). */
export function abandonedError(): ServiceUnavailableError {
  return new ServiceUnavailableError(
    'Nobody waits for this request any more (its client was told it failed); it was not sent.',
    5,
    { code: 'request_abandoned', upstreamSent: false },
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

/** Whether `err` is the processor's refusal of a job its caller gave up on. */
export function isAbandoned(err: unknown): boolean {
  return err instanceof AppError && err.code === 'request_abandoned';
}

/** The mark stored at `key`, kept for `ttlMs` (longer than any run of the job). */
export function sentMark(redis: Redis, key: string, ttlMs: number): SentMark {
  const keys = [key, abandonedKeyOf(key)];
  const check = async (write: boolean): Promise<void> => {
    let state: number;
    try {
      state = await MARK.run(redis, keys, [String(Date.now()), String(ttlMs), write ? '1' : '0']);
    } catch (err) {
      throw markUnavailable(err);
    }
    if (state === -1) {
      throw abandonedError();
    }
    if (state === 0) {
      throw alreadySent();
    }
  };
  return { assertUnsent: () => check(false), mark: () => check(true) };
}

/**
 * Tells the job, if it exists, that nobody waits for it: once this lands it never sends. Waits a
 * little for a reconnecting connection first (it refuses commands at once). Resolves whether the
 * prompt may have gone up all the same (the "sent" mark was there first, or Redis cannot say).
 */
export async function abandonJob(marks: JobMarks): Promise<boolean> {
  const { redis, sentKey } = marks;
  await readyWithin(redis, ABANDON_READY_MS);
  try {
    return (
      (await ABANDON.run(redis, [abandonedKeyOf(sentKey), sentKey], [String(marks.ttlMs)])) === 1
    );
  } catch {
    // Its caller answers "may have been sent", so the gateway does not fail over.
    marks.logger.warn('could not mark a job abandoned', { jobId: marks.jobId });
    return true;
  }
}

/**
 * Gives up on a job whose add failed on this side, though Redis may have run it (abandonJob);
 * false at once when the add never left. Sent after the add on the same connection, or after it
 * dropped, so Redis runs it after the add.
 */
export async function abandonUnadded(marks: JobMarks, addError: unknown): Promise<boolean> {
  return neverLeft(addError) ? false : abandonJob(marks);
}

/** ioredis refused the command before writing it (no connection, no offline queue). */
function neverLeft(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Stream isn't writeable");
}

/** What the waiting side knows of its job. */
export interface WaiterView {
  /** The job's `start` arrived (or it could no longer be removed). */
  readonly started: boolean;
  /** The job's last word arrived, or it is known gone (removed, never added). */
  readonly finished: boolean;
}

/**
 * Says on an error raised on the waiting side (worker lost, run timeout, Redis away, queue
 * closing) whether the prompt may have gone upstream. A job that may still run is abandoned
 * first, so that "not sent" stays true after the gateway sent the prompt elsewhere.
 */
export async function withUpstreamSent(
  err: unknown,
  waiter: WaiterView,
  marks: JobMarks,
): Promise<unknown> {
  if (!(err instanceof AppError) || err.upstreamSent !== undefined) {
    return err;
  }
  const gone = waiter.finished && !waiter.started;
  const upstreamSent = gone ? false : await abandonJob(marks);
  return parseError(serializeError(err, { upstreamSent }));
}
