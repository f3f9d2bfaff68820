import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../../src/browser/with-timeout.ts';

describe('withTimeout', () => {
  it('passes a value through', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
  });

  it('passes a rejection through', async () => {
    await expect(
      withTimeout(Promise.reject(new Error('boom')), 1000, () => new Error('late')),
    ).rejects.toThrow('boom');
  });

  it('rejects with the given error when the promise hangs', async () => {
    const never = new Promise<never>(() => undefined);
    await expect(withTimeout(never, 20, () => new Error('timed out'))).rejects.toThrow('timed out');
  });

  it('swallows a rejection that comes after the timeout (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const late = sleep(40).then(() => {
        throw new Error('late failure');
      });
      await expect(withTimeout(late, 10, () => new Error('timed out'))).rejects.toThrow(
        'timed out',
      );
      await sleep(80);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
