/**
 * One account, one line: a BullMQ queue per account with a global concurrency of 1, so that every
 * process serving the account together sends Google one request at a time. `stream()` enqueues a
 * chat and yields its events while it runs, whichever process runs it; `call()` runs an rpc.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChatJob } from '../account/index.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { GenerateEvent } from '../gemini/index.ts';
import { createLogger, type Logger } from '../logging.ts';
import { settlesWithin, startChatWorker, stopChatWorker, type ChatWorker } from './chat-worker.ts';
import { CancelRegistry } from './cancel-registry.ts';
import { createProcessor } from './job-processor.ts';
import { addToLine, enterLine, jobMarks, leaveLine, lineKeys } from './line-entry.ts';
import { sharedAccountKeys } from './line-entry.ts';
import type { Entry, EntryContext } from './line-entry.ts';
import { LocalRuns } from './local-run.ts';
import { createCommandRedis, createSubscriberRedis } from './redis-clients.ts';
import { queueSlots, queueUnavailable, type QueueSlots } from './queue-slots.ts';
import { followOptionsOf, processorDeps } from './queue-options.ts';
import type { ChatQueueOptions, QueueStats } from './queue-options.ts';
import { ReplyInbox, follow } from './reply-stream.ts';
import { withUpstreamSent } from './sent-mark.ts';
import { rpcJobData, rpcResultOf } from './rpc-job.ts';
import { decodeReply, isRpcJobData, queueNames } from './wire.ts';
import type {
  ChatJobData,
  JobEvent,
  QueueJobData,
  QueueNames,
  ReplyMessage,
  RpcJob,
} from './wire.ts';

/** What a chat's stream yields: GenerateEvents only (rpc_result is an rpc job's). */
type ChatEvents = AsyncGenerator<GenerateEvent, void, undefined>;

/** A per-account BullMQ queue with streaming replies. Lifecycle: start(), close(). */
export class ChatQueue {
  readonly names: QueueNames;
  /** This instance's reply channel, named in the data of every job it enqueues. */
  private readonly replyChannel: string;
  private readonly log: Logger;
  private readonly producer: Redis;
  private readonly subscriber: Redis;
  private readonly queue: Queue<QueueJobData>;
  private readonly inboxes = new Map<string, ReplyInbox>();
  private readonly cancels = new CancelRegistry();
  private readonly slots: QueueSlots;
  private readonly entry: EntryContext;
  /** Jobs claimed and running in this process (close lets them finish). */
  private localRuns: LocalRuns | null = null;
  private worker: ChatWorker | null = null;
  private concurrencyApplied = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: ChatQueueOptions) {
    const prefix = options.prefix ?? 'gk';
    this.names = queueNames(prefix, options.account.account);
    this.replyChannel = this.names.reply(randomUUID());
    this.log = (options.logger ?? createLogger({ silent: true })).child({
      queue: this.names.queue,
    });
    const { connectTimeoutMs, commandTimeoutMs } = options;
    const timeout = connectTimeoutMs === undefined ? {} : { connectTimeoutMs };
    const redisOptions = { ...timeout, logger: this.log };
    this.producer = createCommandRedis(options.redisUrl, {
      ...redisOptions,
      ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
      name: 'gk-producer',
    });
    this.subscriber = createSubscriberRedis(options.redisUrl, { ...redisOptions, name: 'gk-sub' });
    this.queue = new Queue<QueueJobData>(this.names.queue, {
      connection: this.producer,
      prefix,
      streams: { events: { maxLen: 100 } },
    });
    this.queue.on('error', (err) => this.log.debug('queue error', { err: err.message }));
    this.slots = queueSlots(this.producer, this.names.slots);
    const closed = (): boolean => this.closing !== null;
    const { producer: redis, queue, names, log: logger } = this;
    const localRuns = (): LocalRuns | null => this.localRuns;
    this.entry = { redis, queue, names, options, localRuns, closed, logger };
    this.producer.on('ready', () => {
      // A Redis that lost its data lost the global concurrency too: set it again.
      this.concurrencyApplied = false;
      void this.applyConcurrency().catch(() => undefined);
    });
    this.subscriber.on('message', (channel: string, raw: string) => this.onMessage(channel, raw));
    void this.subscriber
      .subscribe(this.replyChannel, this.names.cancel)
      .catch((err: unknown) => this.log.error('subscribe failed', { err }));
  }

  /** Redis answers: a stream can be served now. */
  ready(): boolean {
    return !this.closing && this.producer.status === 'ready' && this.subscriber.status === 'ready';
  }

  /** Jobs of this account running in this process (0 or 1). */
  get currentTasks(): number {
    return this.cancels.size;
  }

  /**
   * Enqueues `job` and yields its events as they are produced. Throws 503 at once when Redis is
   * down, 429 at once when the queue is full or the account refuses, 503 with Retry-After when the
   * wait runs out. Leaving early (or `signal`) removes a waiting job and aborts a running one.
   */
  stream(job: ChatJob, signal: AbortSignal): ChatEvents {
    return this.run({ job, replyTo: this.replyChannel }, signal) as ChatEvents;
  }

  /**
   * Runs one batchexecute RPC in the account's line, behind the chats already waiting, and
   * resolves with its payload. It takes no queue slot, so it never makes a user's request 429,
   * never takes the fast path, and is not a request in flight. Refused like a chat while the
   * account cools down.
   */
  call(rpc: Omit<RpcJob, 'requestId'>, signal: AbortSignal): Promise<unknown> {
    return rpcResultOf(this.run(rpcJobData(rpc, this.replyChannel), signal), rpc.rpcId);
  }

  private async *run(data: QueueJobData, signal: AbortSignal): AsyncGenerator<JobEvent> {
    signal.throwIfAborted();
    if (!this.ready()) {
      throw queueUnavailable();
    }
    const id = randomUUID();
    await this.options.account.check();
    const chat = isRpcJobData(data) ? null : data;
    const inbox = new ReplyInbox();
    const idleHere = this.cancels.size === 0 && this.inboxes.size === 0;
    this.inboxes.set(id, inbox);
    const entering = chat && this.enter(id, chat);
    // The line looks idle from here: the job starts beside its claim (LocalRuns.startEarly).
    const early = idleHere && !!entering && !!this.localRuns?.startEarly(id, chat, entering);
    let entry: Entry | null;
    try {
      entry = await entering;
    } catch (err) {
      this.inboxes.delete(id);
      throw err;
    }
    let runningElsewhere = false; // then the job frees its own slot when it ends
    try {
      if (chat && entry?.claim === 'running' && this.localRuns) {
        if (!early) {
          this.localRuns.start(id, chat, entry.admission!);
        }
      } else {
        await addToLine(this.entry, id, data).catch((err: unknown) => {
          inbox.finished = true; // never added (or abandoned): nothing to remove or cancel
          throw err;
        });
      }
      yield* follow(inbox, signal, followOptionsOf(this.options), {
        removeIfWaiting: async () => (await this.queue.remove(id)) === 1,
        isGone: async () =>
          ['unknown', 'completed', 'failed'].includes(await this.queue.getJobState(id)),
      });
    } catch (err) {
      throw await withUpstreamSent(err, inbox, jobMarks(this.entry, id));
    } finally {
      this.inboxes.delete(id);
      if (!inbox.finished) {
        runningElsewhere = !(await leaveLine(this.entry, id, inbox.started, this.cancels));
      }
      // A job that started frees its slot itself when it ends; not awaited, it is off the answer.
      if (chat && !runningElsewhere && !inbox.started) {
        void this.slots.release(id).catch(() => undefined);
      }
    }
  }

  /** Starts this process's worker: one job at a time, never a job twice. */
  async start(): Promise<void> {
    if (this.worker || this.closing) {
      return;
    }
    await this.applyConcurrency().catch((err: unknown) =>
      this.log.warn('could not set global concurrency yet', { err }),
    );
    const processor = createProcessor(
      processorDeps(this.options, this.log, {
        publisher: this.producer,
        cancels: this.cancels,
        sentKey: (jobId) => this.names.sent(jobId),
        releaseSlot: (jobId) => this.slots.release(jobId),
        deliverLocally: (replyTo, message) => this.deliverLocally(replyTo, message),
      }),
    );
    this.worker = startChatWorker({
      queueName: this.names.queue,
      prefix: this.options.prefix ?? 'gk',
      redisUrl: this.options.redisUrl,
      logger: this.log,
      processor,
    });
    const { queue, producer: redis, log: logger, names, inboxes } = this;
    const shared = sharedAccountKeys(this.options.account);
    this.localRuns = new LocalRuns({
      ...{ queue, redis, logger, process: processor, endDelayMs: this.options.endDelayMs },
      keysOf: (id) => lineKeys(queue, names, shared, id),
      waitersBehind: (id) => inboxes.size > (inboxes.has(id) ? 1 : 0),
    });
  }

  /** Waiting and running jobs of this account, across every process. */
  async stats(): Promise<QueueStats> {
    const counts = await this.queue.getJobCounts('waiting', 'active');
    return { waiting: counts['waiting'] ?? 0, active: counts['active'] ?? 0 };
  }

  /** Stops the worker (letting a running job finish for closeGraceMs), then the connections. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const inbox of this.inboxes.values()) {
      inbox.fail(new ServiceUnavailableError('The worker is shutting down.', 5));
    }
    if (this.worker) {
      const stopping = new ServiceUnavailableError('The worker is shutting down.', 5);
      const graceMs = this.options.closeGraceMs ?? 10_000;
      const abortRunning = (): void => this.cancels.abortAll(stopping);
      await Promise.all([
        stopChatWorker(this.worker, {
          redisUp: this.producer.status === 'ready',
          graceMs,
          abortRunning,
        }),
        this.localRuns?.finish(graceMs, abortRunning),
      ]);
    }
    await settlesWithin(
      this.queue.close().catch(() => undefined),
      2000,
    );
    this.subscriber.disconnect();
    this.producer.disconnect();
  }

  /** Takes a slot for job `id`, and the line itself when it is idle and this process runs jobs. */
  private async enter(id: string, data: ChatJobData): Promise<Entry> {
    try {
      if (!this.concurrencyApplied) {
        await this.applyConcurrency();
      }
    } catch (err) {
      throw queueUnavailable(err);
    }
    return enterLine(this.entry, id, data);
  }

  private async applyConcurrency(): Promise<void> {
    await this.queue.setGlobalConcurrency(1);
    this.concurrencyApplied = true;
  }

  /**
   * A job this process runs whose stream waits here too: its replies skip Redis (no publish, no
   * JSON either way). A reply for a stream that already left is dropped, as the subscriber would.
   */
  private deliverLocally(replyTo: string, message: ReplyMessage): boolean {
    if (replyTo !== this.replyChannel) {
      return false;
    }
    this.inboxes.get(message.id)?.push(message);
    return true;
  }

  private onMessage(channel: string, raw: string): void {
    if (channel === this.names.cancel) {
      this.cancels.cancel(raw);
      return;
    }
    const message = decodeReply(raw);
    if (message) {
      this.inboxes.get(message.id)?.push(message);
    }
  }
}
