/**
 * @module queue
 * One BullMQ queue per account, concurrency 1 across every process serving it, with replies
 * streamed back over Redis pub/sub (or handed over in memory when the job runs where its stream
 * waits), cancellation, wait limits and timeouts.
 */
export { ChatQueue } from './chat-queue.ts';
export type { ChatQueueOptions, QueueAccount, QueueStats } from './queue-options.ts';
export {
  createCommandRedis,
  createSubscriberRedis,
  createWorkerRedis,
  type RedisClientOptions,
} from './redis-clients.ts';
export {
  queueNameFor,
  queueNames,
  type ChatJobData,
  type JobEvent,
  type QueueJobData,
  type QueueNames,
  type RpcJob,
  type RpcJobData,
} from './wire.ts';
export type { ChatJob, Generate } from '../account/index.ts';
