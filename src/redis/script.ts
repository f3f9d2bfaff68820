/**
 * A Lua script run by name on an ioredis connection: defined on the connection at its first use,
 * then sent as EVALSHA, so its body does not cross the wire with every call (ioredis falls back to
 * EVAL by itself when Redis lost its script cache, e.g. after a restart).
 */
import type { Redis } from 'ioredis';

/** One script; `run` takes its keys, then its arguments. */
export interface RedisScript<Reply> {
  run(redis: Redis, keys: readonly string[], args: readonly string[]): Promise<Reply>;
}

type Scripted = Record<string, ((...args: string[]) => Promise<unknown>) | undefined>;

/** The script `lua` with `numberOfKeys` keys, known on each connection as `name` (unique). */
export function redisScript<Reply>(
  name: string,
  numberOfKeys: number,
  lua: string,
): RedisScript<Reply> {
  return {
    run(redis, keys, args) {
      if (keys.length !== numberOfKeys) {
        throw new Error(`The script ${name} takes ${numberOfKeys} keys, not ${keys.length}.`);
      }
      const scripted = redis as unknown as Scripted;
      if (typeof scripted[name] !== 'function') {
        redis.defineCommand(name, { numberOfKeys, lua });
      }
      return scripted[name]!(...keys, ...args) as Promise<Reply>;
    },
  };
}
