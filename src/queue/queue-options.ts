/**
 * What a ChatQueue is built from, and what it reports.
 */
import type {
  AccountGuard,
  Admission,
  CallRpc,
  ClaimedAccountRead,
  Generate,
  GuardDeps,
} from '../account/index.ts';
import type { SendOutcome } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';
import type { ProcessorDeps } from './job-processor.ts';
import type { FollowOptions } from './reply-stream.ts';

/** The account as the queue needs it: AccountState fits. */
export interface QueueAccount extends AccountGuard {
  readonly account: string;
  /** Fast-fail before queueing (cooling, signed out, probe in flight). */
  check(): Promise<void>;
  /**
   * The Redis hash admit() reads (cooldown, login state), checked again by the line claim in the
   * same step as it takes the line; null or absent when the account's state is not in Redis.
   */
  readonly sharedRecordKey?: string | null;
  /**
   * The probe lock the line claim takes in its own step when the account's cooldown has ended;
   * with it, the claim's read of the shared record is the admission (admitRead). Null or absent:
   * admit() runs beside the claim.
   */
  readonly sharedProbe?: { readonly key: string; readonly ttlMs: number } | null;
  admitRead?(read: ClaimedAccountRead): Promise<Admission>;
}

/** How a ChatQueue is set up (the worker role passes config's values). */
export interface ChatQueueOptions {
  readonly account: QueueAccount;
  readonly redisUrl: string;
  /** The upstream this process calls when it runs a job. */
  readonly generate: Generate;
  /** Pushes a job's input file upstream, inside the account's line. */
  readonly upload?: GuardDeps['upload'];
  /** Downloads and stores an answer's generated images, inside the account's line. */
  readonly storeImages?: GuardDeps['storeImages'];
  /** Runs a batchexecute call for `ChatQueue.call()`, inside the account's line. */
  readonly rpc?: CallRpc;
  /** Counts each upstream StreamGenerate send by outcome. */
  readonly onUpstreamSend?: (outcome: SendOutcome) => void;
  /** config.queue: longest wait before a job starts, and the most jobs waiting + running. */
  readonly queue: { readonly waitMs: number; readonly maxLength: number };
  /** config.requestTimeoutMs: a running job is stopped after this. */
  readonly requestTimeoutMs: number;
  /** Prefix of every Redis key and channel (tests isolate with it). */
  readonly prefix?: string;
  readonly logger?: Logger;
  readonly transientBackoffMs?: number;
  readonly connectTimeoutMs?: number;
  /** Bound on one command of the queue's command connection (default 5 s). */
  readonly commandTimeoutMs?: number;
  /** How often a silent waiting stream checks its job still exists. */
  readonly livenessCheckMs?: number;
  /** Retry-After when the queue wait ran out. */
  readonly busyRetryAfterS?: number;
  /** How long close() lets a running job finish before aborting it. */
  readonly closeGraceMs?: number;
  /** How long a job that answered here waits to write its end (after-work.ts; tests lengthen it). */
  readonly endDelayMs?: number;
}

/** The account guard's dependencies from a queue's options. */
export function guardDeps(options: ChatQueueOptions, logger: Logger): GuardDeps {
  const { transientBackoffMs, upload, storeImages } = options;
  return {
    account: options.account,
    generate: options.generate,
    logger,
    ...(transientBackoffMs === undefined ? {} : { transientBackoffMs }),
    ...(upload ? { upload } : {}),
    ...(storeImages ? { storeImages } : {}),
  };
}

/** What a queue's processor takes from its queue beside the options. */
export type ProcessorParts = Pick<
  ProcessorDeps,
  'publisher' | 'cancels' | 'sentKey' | 'releaseSlot' | 'deliverLocally'
>;

/** The processor's dependencies from a queue's options and parts. */
export function processorDeps(
  options: ChatQueueOptions,
  logger: Logger,
  parts: ProcessorParts,
): ProcessorDeps {
  const { onUpstreamSend, rpc } = options;
  return {
    ...parts,
    guard: guardDeps(options, logger),
    requestTimeoutMs: options.requestTimeoutMs,
    maxWaitMs: options.queue.waitMs,
    logger,
    ...(onUpstreamSend ? { onUpstreamSend } : {}),
    ...(rpc ? { rpc } : {}),
  };
}

/** Counts of this account's queue across all processes. */
export interface QueueStats {
  readonly waiting: number;
  readonly active: number;
}

/** How long a stream waits for its job to start, run and show signs of life. */
export function followOptionsOf(options: ChatQueueOptions): FollowOptions {
  return {
    waitMs: options.queue.waitMs,
    // The processor stops itself at requestTimeoutMs and says so; this margin is for its word.
    runMs: options.requestTimeoutMs + 5000,
    livenessMs: options.livenessCheckMs ?? 2000,
    busyRetryAfterS: options.busyRetryAfterS ?? 10,
  };
}
