/**
 * A request's one step into the account's line: take one of its queue slots and, when the line is
 * idle, the account servable and this process runs a worker, make the job BullMQ's active job at
 * once, locked by this process, with its "sent" mark written. One Lua script, so one round trip
 * decides everything that the BullMQ add, the worker's wake, its move to active and the mark used
 * to decide in four.
 *
 * The job is written where BullMQ keeps it (its hash, the active list, its lock), so every other
 * process sees the line taken: BullMQ's moveToActive refuses while the active list holds the
 * global concurrency (1), the stalled checker sees a held lock, getJobState says "active", and
 * remove refuses a locked job. The script takes the line only when nothing waits (no job jumps
 * the queue), the queue is not paused, the global concurrency of 1 is in place, and the account's
 * shared record (the hash admit() reads) shows no running cooldown and no signed-out session:
 * read in the same step, a cooldown another process just wrote cannot slip one request past it.
 * A job refused the fast path goes through BullMQ, where its worker's admit() answers with the
 * right error. The claim answers the record it read, and that read is the job's admission
 * (AccountState.admitRead): nothing else is read before the prompt goes upstream. A cooldown
 * whose end passed (by Redis's clock) does not refuse: the claim takes the probe lock in the same
 * step and the job, the half-open probe, runs here at once; while another request holds that
 * lock the job goes through BullMQ, whose admit() answers 429 "probing".
 *
 * A claim whose reply never came (timeout, dropped connection) may still have run: releaseLine
 * undoes it when its lock still holds the claim's token, so the line frees at once instead of
 * after the lock runs out and the stalled checker fails the job.
 */
import type { Redis } from 'ioredis';
import type { ClaimedAccountRead } from '../account/index.ts';
import { redisScript } from '../redis/index.ts';

// KEYS: 1 slots, 2 wait, 3 active, 4 prioritized, 5 meta, 6 job hash, 7 job lock, 8 sent mark,
//       9 the account's shared hash, 10 the claim's tombstone, 11 the account's probe lock.
// ARGV: 1 id, 2 max, 3 slot ttl ms, 4 run here (1|0), 5 lock token, 6 lock ms, 7 job name,
//       8 job data (JSON), 9 job opts (JSON), 10 sent-mark ttl ms ('' for none),
//       11 probe token ('' when the admission is not read here), 12 probe ttl ms.
// Returns {0}: queue full; {1}: slot taken, add the job to BullMQ; {2, hash, probing, taken}: the
// job is active, run it here (the account's hash as a flat list, whether a probe lock was held,
// whether this claim took it); {3}: undone before it ran (its caller, told 503, never reads this).
const CLAIM = redisScript<[number, string[]?, number?, number?]>(
  'gkClaimLine',
  11,
  `
if redis.call('EXISTS', KEYS[10]) == 1 then return {3} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0} end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if ARGV[4] ~= '1' then return {1} end
local meta = redis.call('HMGET', KEYS[5], 'paused', 'concurrency')
if meta[1] or meta[2] ~= '1' then return {1} end
if redis.call('LLEN', KEYS[3]) > 0 or redis.call('LLEN', KEYS[2]) > 0
  or redis.call('ZCARD', KEYS[4]) > 0 or redis.call('EXISTS', KEYS[6]) == 1 then
  return {1}
end
local hash = redis.call('HGETALL', KEYS[9])
local account = {}
for i = 1, #hash, 2 do account[hash[i]] = hash[i + 1] end
local cooldownUntil = tonumber(account['cooldown_until'] or '0') or 0
local reason = account['cooldown_reason']
local cooling = cooldownUntil > 0 and reason and reason ~= ''
if (cooling and cooldownUntil > now) or account['login_state'] == 'login_required' then
  return {1}
end
local probing, taken = 0, 0
if ARGV[11] ~= '' then
  probing = redis.call('EXISTS', KEYS[11])
  if cooling then
    if probing == 1 then return {1} end
    redis.call('SET', KEYS[11], ARGV[11], 'PX', ARGV[12])
    taken = 1
  end
end
redis.call('HSET', KEYS[6], 'name', ARGV[7], 'data', ARGV[8], 'opts', ARGV[9],
  'timestamp', now, 'delay', 0, 'priority', 0, 'processedOn', now, 'ats', 1)
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('SET', KEYS[7], ARGV[5], 'PX', ARGV[6])
if ARGV[10] ~= '' then redis.call('SET', KEYS[8], now, 'PX', ARGV[10], 'NX') end
return {2, hash, probing, taken}
`,
);

/**
 * Lua that wakes BullMQ's workers when jobs wait (its wait list or prioritized set, at these KEYS
 * indexes): jobs added while the line was held found the queue at its concurrency and woke none.
 */
export function wakeIfJobsWait(wait: number, prioritized: number, marker: number): string {
  return `if redis.call('LLEN', KEYS[${wait}]) > 0 or redis.call('ZCARD', KEYS[${prioritized}]) > 0 then
  redis.call('ZADD', KEYS[${marker}], 0, '0')
end`;
}

// KEYS: 1 slots, 2 wait, 3 prioritized, 4 marker, 5 active, 6 job hash, 7 job lock, 8 sent mark,
//       9 the claim's tombstone, 10 the account's probe lock.
// ARGV: 1 job id, 2 the claim's lock token ('' for none), 3 tombstone ttl ms ('' unless undoing),
//       4 the claim's probe token ('' for none).
// Frees the job's slot; with a token, undoes a claim that made the job active if its lock still
// holds that token (nobody else can hold it, and its process never started it). An undo leaves a
// tombstone holding what it found: a claim that finds it writes nothing (when nothing was held,
// the claim may still be on its way, sent on a connection that dropped), and a retried undo whose
// earlier attempt's reply was lost answers what that attempt did. Then wakes a worker when jobs
// wait: jobs added while the line was held found the queue maxed and woke none.
// Returns 2: the claimed job was undone; 1: only a slot was freed; 0: nothing was held.
const RELEASE = redisScript<number>(
  'gkReleaseLine',
  10,
  `
local freed = redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('GET', KEYS[7]) == ARGV[2] then
  redis.call('DEL', KEYS[7], KEYS[6], KEYS[8])
  redis.call('LREM', KEYS[5], 0, ARGV[1])
  freed = 2
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[10]) == ARGV[4] then redis.call('DEL', KEYS[10]) end
if ARGV[3] ~= '' then
  freed = math.max(freed, tonumber(redis.call('GET', KEYS[9]) or '0'))
  redis.call('SET', KEYS[9], freed, 'PX', ARGV[3])
end
${wakeIfJobsWait(2, 3, 4)}
return freed
`,
);

/** What the claim decided. */
export type Claim = 'full' | 'queued' | 'running';

/** The claim's answer; `account` is the admission's read when the claim read it (ClaimRequest). */
export interface ClaimAnswer {
  readonly claim: Claim;
  readonly account: ClaimedAccountRead | null;
}

/** The BullMQ keys of the account's queue the claim reads and writes. */
export interface LineKeys {
  readonly slots: string;
  readonly wait: string;
  readonly active: string;
  readonly prioritized: string;
  readonly meta: string;
  /** BullMQ's set of active jobs its stalled checker saw (a job's end takes its id out). */
  readonly stalled: string;
  /** BullMQ's event stream (a job's end writes `completed`). */
  readonly events: string;
  /** BullMQ's wake-up marker for its workers. */
  readonly marker: string;
  /** The job's hash; its lock is this plus `:lock`. */
  readonly job: string;
  /** The job's "sent" mark. */
  readonly sent: string;
  /** The account's shared record (cooldown, login state); '' when it is not kept in Redis. */
  readonly account: string;
  /** The account's probe lock; '' when it is not kept in Redis. */
  readonly probe: string;
  /** The claim's tombstone, written by its undo (what it found). */
  readonly undone: string;
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
    /**
     * Read the admission in the same step: the claim answers the account's record and takes the
     * probe lock (this token, this ttl) when the cooldown has ended; null: it is read apart.
     */
    readonly probe: { readonly token: string; readonly ttlMs: number } | null;
  } | null;
}

/** Takes a slot, and the line itself when it is idle (see the module comment). */
export async function claimLine(
  redis: Redis,
  keys: LineKeys,
  req: ClaimRequest,
): Promise<ClaimAnswer> {
  const r = req.runHere;
  const probe = r?.probe ?? null;
  const [code, hash, probing, taken] = await CLAIM.run(
    redis,
    [
      keys.slots,
      keys.wait,
      keys.active,
      keys.prioritized,
      keys.meta,
      keys.job,
      `${keys.job}:lock`,
      keys.sent,
      keys.account,
      keys.undone,
      keys.probe,
    ],
    [
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
      probe?.token ?? '',
      String(probe?.ttlMs ?? 0),
    ],
  );
  if (code === 3) {
    throw new Error('This line claim was undone before Redis ran it.');
  }
  if (code !== 2) {
    return { claim: code === 0 ? 'full' : 'queued', account: null };
  }
  return {
    claim: 'running',
    account: probe ? accountRead(hash ?? [], probing, taken, probe) : null,
  };
}

function accountRead(
  flat: readonly string[],
  probing: number | undefined,
  taken: number | undefined,
  probe: { readonly token: string },
): ClaimedAccountRead {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    hash[flat[i]!] = flat[i + 1]!;
  }
  return { hash, probing: probing === 1, probeToken: taken === 1 ? probe.token : null };
}

/** What releaseLine found: the claimed job undone, only a slot freed, or nothing held. */
export type Released = 'undone' | 'slot' | 'none';

/** How to undo a claim whose reply was lost. */
export interface Undo {
  /** The claim's lock token; '' for a claim that could only take a slot. */
  readonly token: string;
  /** The probe token the claim may have taken the account's probe lock with; '' for none. */
  readonly probeToken?: string;
  /** How long the claim, should it run later, is refused (longer than it can be in flight). */
  readonly tombstoneMs: number;
}

/**
 * Frees job `id`'s slot and wakes a worker if jobs wait. With `undo`, first undoes the claim's
 * active job if its token still holds it (only for a claim whose process never started the job:
 * its reply was lost), frees the account's probe lock if the claim took it, and refuses that claim
 * should it run later; a retry answers what an earlier attempt did.
 */
export async function releaseLine(
  redis: Redis,
  keys: LineKeys,
  id: string,
  undo?: Undo,
): Promise<Released> {
  const answer = await RELEASE.run(
    redis,
    [
      keys.slots,
      keys.wait,
      keys.prioritized,
      keys.marker,
      keys.active,
      keys.job,
      `${keys.job}:lock`,
      keys.sent,
      keys.undone,
      keys.probe,
    ],
    [id, undo?.token ?? '', undo ? String(undo.tombstoneMs) : '', undo?.probeToken ?? ''],
  );
  return answer === 2 ? 'undone' : answer === 1 ? 'slot' : 'none';
}
