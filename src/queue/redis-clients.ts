/**
 * The Redis connections a ChatQueue uses, each configured for its job: commands that must fail
 * fast while Redis is down, BullMQ's blocking worker, and the pub/sub subscriber. All reconnect
 * forever with a capped backoff, so service resumes without a restart when Redis returns.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logging.ts';

export interface RedisClientOptions {
  /** Bound on a TCP connect; a dead Redis never makes a caller hang longer. */
  readonly connectTimeoutMs?: number;
  /** Bound on one command on the command connection. */
  readonly commandTimeoutMs?: number;
  /** Shown in CLIENT LIST. */
  readonly name?: string;
  readonly logger?: Logger;
}

const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 5), 2000);

function base(options: RedisClientOptions) {
  return {
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy,
    ...(options.name ? { connectionName: options.name } : {}),
  };
}

/** Logs connection loss and recovery once per change, not once per reconnect attempt. */
function watch(client: Redis, options: RedisClientOptions): Redis {
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) {
      down = true;
      options.logger?.warn('redis connection lost', { name: options.name, err: err.message });
    }
  });
  client.on('ready', () => {
    if (down) {
      down = false;
      options.logger?.info('redis connection back', { name: options.name });
    }
  });
  return client;
}

/**
 * For producers and state: no offline queue and one retry per request, so a command fails at once
 * while Redis is down instead of waiting for it to return.
 */
export function createCommandRedis(url: string, options: RedisClientOptions = {}): Redis {
  return watch(
    new Redis(url, {
      ...base(options),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      // A command whose caller already got an error (its timeout, a dropped connection) must not
      // run later: a job added after its client was told 503 would go upstream with nobody
      // waiting, while the gateway sends the prompt elsewhere. ioredis resends such commands on
      // reconnect unless told not to.
      autoResendUnfulfilledCommands: false,
    }),
    options,
  );
}

/**
 * A template for BullMQ's worker: BullMQ duplicates it for its own connections (blocking
 * commands need `maxRetriesPerRequest: null`). It never connects itself.
 */
export function createWorkerRedis(url: string, options: RedisClientOptions = {}): Redis {
  return watch(
    new Redis(url, { ...base(options), maxRetriesPerRequest: null, lazyConnect: true }),
    options,
  );
}

/** For SUBSCRIBE: resubscribes on its own after a reconnect. */
export function createSubscriberRedis(url: string, options: RedisClientOptions = {}): Redis {
  return watch(
    new Redis(url, { ...base(options), maxRetriesPerRequest: null, autoResubscribe: true }),
    options,
  );
}
