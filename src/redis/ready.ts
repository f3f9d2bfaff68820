/**
 * Waiting for a connection that may be reconnecting, with a bound: callers of a connection
 * without an offline queue ask this before a command that must not fail only for being early.
 */
import type { Redis } from 'ioredis';

/** Resolves once `redis` is ready, or after `timeoutMs` whatever its state. */
export async function readyWithin(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') {
    return;
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}
