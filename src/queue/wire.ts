/**
 * What crosses Redis between the process that waits for a chat and the process that runs it:
 * the BullMQ job data, and the pub/sub messages on the reply and cancel channels.
 *
 * Streaming uses Redis pub/sub: each ChatQueue subscribes once, on one shared subscriber
 * connection, to its own reply channel (named by a per-instance id carried in the job data) and to
 * the account's cancel channel. Pub/sub delivers at most once, so every reply carries a sequence
 * number and the waiting side fails the stream on a gap rather than lose text silently. When the
 * job runs in the process whose stream waits for it, the same messages are handed over in memory
 * instead (ChatQueue.deliverLocally): no publish, no JSON either way.
 */
import { createHash } from 'node:crypto';
import type { ChatJob } from '../account/index.ts';
import type { SerializedError } from '../errors.ts';
import type { GenerateEvent } from '../gemini/index.ts';

/** BullMQ job data. Never carries cookies: the running process reads its own. */
export interface ChatJobData {
  readonly job: ChatJob;
  /** The reply channel of the ChatQueue that waits for this job. */
  readonly replyTo: string;
}

/** One batchexecute call (e.g. discovery's otAQ7b) that runs in the account's line. */
export interface RpcJob {
  readonly requestId: string;
  readonly rpcId: string;
  readonly payload: unknown;
}

/** BullMQ data of an rpc job: no slot, no sent mark, not counted as a request in flight. */
export interface RpcJobData {
  readonly rpc: RpcJob;
  readonly replyTo: string;
}

/** Whatever the account's queue carries: a chat, or an rpc. */
export type QueueJobData = ChatJobData | RpcJobData;

/** Whether `data` is an rpc job's. */
export function isRpcJobData(data: QueueJobData): data is RpcJobData {
  return 'rpc' in data;
}

/** What a job yields: a chat's GenerateEvents, or an rpc job's single result. */
export type JobEvent = GenerateEvent | { readonly type: 'rpc_result'; readonly payload: unknown };

/** One message on a reply channel. `seq` counts from 0 per job. */
export type ReplyMessage = { readonly id: string; readonly seq: number } & (
  | { readonly t: 'start' }
  | { readonly t: 'event'; readonly event: JobEvent }
  | { readonly t: 'end' }
  | { readonly t: 'error'; readonly error: SerializedError }
);

/** Redis names of one account's queue. */
export interface QueueNames {
  /** BullMQ queue name (no ':' allowed). */
  readonly queue: string;
  /** Channel on which a client's departure is announced to every process (message: job id). */
  readonly cancel: string;
  /** Reply channel of one ChatQueue instance. */
  reply(instanceId: string): string;
  /** Sorted set of the slots held by waiting and running jobs (the atomic queue limit). */
  readonly slots: string;
  /** The "sent" mark of one job, written before its first upstream send. */
  sent(jobId: string): string;
  /** The tombstone of a lost line claim undone before Redis ran it (the claim then writes nothing). */
  undone(jobId: string): string;
}

/** The queue name for an account: readable when possible, unambiguous always. */
export function queueNameFor(account: string): string {
  const safe = account.replace(/[^A-Za-z0-9._@-]/g, '_');
  if (safe === account && safe.length <= 100) {
    return `chat.${safe}`;
  }
  const hash = createHash('sha256').update(account).digest('hex').slice(0, 12);
  return `chat.${safe.slice(0, 80)}.${hash}`;
}

/** Queue and channel names for `account` under `prefix`. */
export function queueNames(prefix: string, account: string): QueueNames {
  const queue = queueNameFor(account);
  return {
    queue,
    cancel: `${prefix}:${queue}:cancel`,
    reply: (instanceId) => `${prefix}:${queue}:reply:${instanceId}`,
    slots: `${prefix}:${queue}:slots`,
    sent: (jobId) => `${prefix}:${queue}:sent:${jobId}`,
    undone: (jobId) => `${prefix}:${queue}:undone:${jobId}`,
  };
}

export function encodeReply(message: ReplyMessage): string {
  return JSON.stringify(message);
}

/** Parses a reply message; null when it is not one (another writer on the channel, a bug). */
export function decodeReply(raw: string): ReplyMessage | null {
  try {
    const m = JSON.parse(raw) as Partial<ReplyMessage> | null;
    if (m && typeof m.id === 'string' && typeof m.seq === 'number' && typeof m.t === 'string') {
      return m as ReplyMessage;
    }
  } catch {
    // fall through
  }
  return null;
}
