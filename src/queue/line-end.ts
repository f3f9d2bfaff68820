/**
 * The end of a job that ran in this process (claimLine made it active here): what BullMQ's
 * moveToFinished does for such a job, and the release of its queue slot, in one script.
 *
 * Our jobs have no parent, no deduplication id, no metrics, and are removed on completion
 * (JOB_OPTS), so BullMQ's end comes down to this: check that the lock still holds this process's
 * token (else the job is left alone, as BullMQ would), drop the lock and the stalled checker's
 * mark, take the job off the active list, delete its keys, and write the `completed` event (and
 * `drained` when nothing is left) to the queue's event stream, trimmed as BullMQ trims it. Then,
 * as releaseLine does, free the slot and wake a worker when jobs wait. BullMQ's own call built
 * about a dozen keys and a msgpack of options in JavaScript for every answer, and its release
 * was a second command.
 */
import type { Redis } from 'ioredis';
import { redisScript } from '../redis/index.ts';
import { wakeIfJobsWait, type LineKeys } from './line-claim.ts';

// KEYS: 1 job hash, 2 job lock, 3 active, 4 stalled, 5 events, 6 meta, 7 wait, 8 prioritized,
//       9 slots, 10 marker.
// ARGV: 1 job id, 2 lock token.
// Returns 0: ended; -1: no job; -2: no lock; -6: the lock is another's; -3: not active (BullMQ's
// codes). The slot is freed and a worker woken whatever the answer.
const END = redisScript<number>(
  'gkEndLine',
  10,
  `
local function ended()
  if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
  local lock = redis.call('GET', KEYS[2])
  if lock ~= ARGV[2] then
    if lock then return -6 end
    return -2
  end
  redis.call('DEL', KEYS[2])
  redis.call('SREM', KEYS[4], ARGV[1])
  if redis.call('LREM', KEYS[3], -1, ARGV[1]) < 1 then return -3 end
  local maxEvents = redis.call('HGET', KEYS[6], 'opts.maxLenEvents') or 10000
  redis.call('XTRIM', KEYS[5], 'MAXLEN', '~', maxEvents)
  local job = KEYS[1]
  redis.call('DEL', job, job .. ':logs', job .. ':dependencies', job .. ':processed',
    job .. ':failed', job .. ':unsuccessful')
  redis.call('XADD', KEYS[5], '*', 'event', 'completed', 'jobId', ARGV[1], 'returnvalue', 'null',
    'prev', 'active')
  if redis.call('LLEN', KEYS[7]) == 0 and redis.call('LLEN', KEYS[3]) == 0
    and redis.call('ZCARD', KEYS[8]) == 0 then
    redis.call('XADD', KEYS[5], '*', 'event', 'drained')
  end
  return 0
end
local answer = ended()
redis.call('ZREM', KEYS[9], ARGV[1])
${wakeIfJobsWait(7, 8, 10)}
return answer
`,
);

/** Why an end found the job not ours to end (BullMQ's moveToFinished codes). */
const REFUSALS: Readonly<Record<number, string>> = {
  [-1]: 'the job is gone',
  [-2]: 'the job lost its lock',
  [-3]: 'the job is not active',
  [-6]: 'another process holds the job',
};

/**
 * Completes job `id` (locked with `token`) and frees its slot. Rejects when Redis fails, or when
 * the job was no longer this process's (its lock ran out: BullMQ's stalled checker then fails it).
 */
export async function endLine(
  redis: Redis,
  keys: LineKeys,
  id: string,
  token: string,
): Promise<void> {
  const answer = await END.run(
    redis,
    [
      keys.job,
      `${keys.job}:lock`,
      keys.active,
      keys.stalled,
      keys.events,
      keys.meta,
      keys.wait,
      keys.prioritized,
      keys.slots,
      keys.marker,
    ],
    [id, token],
  );
  if (answer !== 0) {
    throw new Error(`The job could not be ended: ${REFUSALS[answer] ?? `code ${answer}`}.`);
  }
}
