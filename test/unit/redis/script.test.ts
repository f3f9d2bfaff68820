/**
 * redisScript against a stand-in for ioredis's defineCommand (the real one is run by every e2e
 * queue and account case): defined once per connection, then called by name.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisScript } from '../../../src/redis/index.ts';

/** A connection that records definitions and calls, as ioredis would send them. */
function connection() {
  const defined: { name: string; numberOfKeys: number }[] = [];
  const calls: string[][] = [];
  const conn: Record<string, unknown> = {
    defineCommand(name: string, def: { numberOfKeys: number; lua: string }) {
      defined.push({ name, numberOfKeys: def.numberOfKeys });
      conn[name] = (...args: string[]) => {
        calls.push(args);
        return Promise.resolve(args.length);
      };
    },
  };
  return { redis: conn as unknown as Redis, defined, calls };
}

describe('redisScript', () => {
  it('defines the script on a connection at its first use only, then calls it keys first', async () => {
    const script = redisScript<number>('gkTestScript', 2, 'return 1');
    const a = connection();
    const b = connection();
    expect(await script.run(a.redis, ['k1', 'k2'], ['x'])).toBe(3);
    await script.run(a.redis, ['k3', 'k4'], []);
    await script.run(b.redis, ['k5', 'k6'], ['y', 'z']);
    expect(a.defined).toEqual([{ name: 'gkTestScript', numberOfKeys: 2 }]);
    expect(b.defined).toEqual([{ name: 'gkTestScript', numberOfKeys: 2 }]);
    expect(a.calls).toEqual([
      ['k1', 'k2', 'x'],
      ['k3', 'k4'],
    ]);
    expect(b.calls).toEqual([['k5', 'k6', 'y', 'z']]);
  });

  it('refuses a call with the wrong number of keys before anything is sent', () => {
    const script = redisScript<number>('gkTestKeys', 2, 'return 1');
    const c = connection();
    expect(() => script.run(c.redis, ['only-one'], ['arg'])).toThrow(/takes 2 keys, not 1/);
    expect(c.calls).toEqual([]);
  });
});
