/**
 * A request's one step into the account's line: take one of its queue slots and, when the line is
 * idle and this process runs a worker, make the job BullMQ's active job at once, locked by this
 * process, with its "sent" mark written. One Lua script, so one round trip decides everything that
 * the BullMQ add, the worker's wake, its move to active and the mark used to decide in four.
 *
 * The job is written where BullMQ keeps it (its hash, the active list, its lock), so every other
 * process sees the line taken: BullMQ's moveToActive refuses while the active list holds the
 * global concurrency (1), the stalled checker sees a held lock, getJobState says "active", and
 * remove refuses a locked job. The script takes the line only when nothing waits (no job jumps
 * the queue), the queue is not paused, and the global concurrency of 1 is in place.
 */
import type { Redis } from 'ioredis';

// KEYS: 1 slots, 2 wait, 3 active, 4 prioritized, 5 meta, 6 job hash, 7 job lock, 8 sent mark.
// ARGV: 1 id, 2 max, 3 slot ttl ms, 4 run here (1|0), 5 lock token, 6 lock ms, 7 job name,
//       8 job data (JSON), 9 job opts (JSON), 10 sent-mark ttl ms ('' for none).
// Returns 0: queue full; 1: slot taken, add the job to BullMQ; 2: the job is active, run it here.
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if ARGV[4] ~= '1' then return 1 end
local meta = redis.call('HMGET', KEYS[5], 'paused', 'concurrency')
if meta[1] or meta[2] ~= '1' then return 1 end
if redis.call('LLEN', KEYS[3]) > 0 or redis.call('LLEN', KEYS[2]) > 0
  or redis.call('ZCARD', KEYS[4]) > 0 or redis.call('EXISTS', KEYS[6]) == 1 then
  return 1
end
redis.call('HSET', KEYS[6], 'name', ARGV[7], 'data', ARGV[8], 'opts', ARGV[9],
  'timestamp', now, 'delay', 0, 'priority', 0, 'processedOn', now, 'ats', 1)
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('SET', KEYS[7], ARGV[5], 'PX', ARGV[6])
if ARGV[10] ~= '' then redis.call('SET', KEYS[8], now, 'PX', ARGV[10], 'NX') end
return 2
`;

/** What the claim decided. */
export type Claim = 'full' | 'queued' | 'running';

/** The BullMQ keys of the account's queue the claim reads and writes. */
export interface LineKeys {
  readonly slots: string;
  readonly wait: string;
  readonly active: string;
  readonly prioritized: string;
  readonly meta: string;
  /** The job's hash; its lock is this plus `:lock`. */
  readonly job: string;
  /** The job's "sent" mark. */
  readonly sent: string;
}

/** The job as BullMQ stores it, and how this process would hold it. */
export interface ClaimRequest {
  readonly id: string;
  readonly maxSlots: number;
  readonly slotTtlMs: number;
  /** Null: this process runs no worker, so the job always goes through BullMQ's add. */
  readonly runHere: {
    readonly token: string;
    readonly lockMs: number;
    readonly name: string;
    readonly data: string;
    readonly opts: string;
    /** Write the "sent" mark with this ttl (a job without inputs); null: the job writes it. */
    readonly sentTtlMs: number | null;
  } | null;
}

type WithClaim = Redis & { gkClaimLine(...args: string[]): Promise<number> };

/** Takes a slot, and the line itself when it is idle (see the module comment). */
export async function claimLine(redis: Redis, keys: LineKeys, req: ClaimRequest): Promise<Claim> {
  const scripted = redis as WithClaim;
  if (typeof scripted.gkClaimLine !== 'function') {
    // EVALSHA from then on: the body is not resent each time.
    redis.defineCommand('gkClaimLine', { numberOfKeys: 8, lua: CLAIM });
  }
  const r = req.runHere;
  const answer = await scripted.gkClaimLine(
    keys.slots,
    keys.wait,
    keys.active,
    keys.prioritized,
    keys.meta,
    keys.job,
    `${keys.job}:lock`,
    keys.sent,
    req.id,
    String(req.maxSlots),
    String(req.slotTtlMs),
    r ? '1' : '0',
    r?.token ?? '',
    String(r?.lockMs ?? 0),
    r?.name ?? '',
    r?.data ?? '',
    r?.opts ?? '',
    r?.sentTtlMs == null ? '' : String(r.sentTtlMs),
  );
  return answer === 0 ? 'full' : answer === 2 ? 'running' : 'queued';
}
