import { describe, expect, it } from 'vitest';
import { backoffDelayMs, jitteredDelayMs } from '../../../src/browser/index.ts';

describe('backoffDelayMs', () => {
  const opts = { initialMs: 100, factor: 2, maxMs: 2000 };

  it('retries at once, then grows by the factor up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffDelayMs(a, opts))).toEqual([
      0, 100, 200, 400, 800, 1600, 2000, 2000, 2000,
    ]);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelayMs(-3, opts)).toBe(0);
  });

  it('is fast at first: the first five retries fit in about 1.5 s', () => {
    const total = [1, 2, 3, 4].reduce((sum, a) => sum + backoffDelayMs(a, opts), 0);
    expect(total).toBe(1500);
  });
});

describe('jitteredDelayMs', () => {
  it('spans ±ratio around the base', () => {
    expect(jitteredDelayMs(600_000, 0.2, () => 0)).toBe(480_000);
    expect(jitteredDelayMs(600_000, 0.2, () => 0.5)).toBe(600_000);
    expect(jitteredDelayMs(600_000, 0.2, () => 0.999_999)).toBe(720_000);
  });

  it('stays within the window for random draws', () => {
    for (let i = 0; i < 1000; i += 1) {
      const d = jitteredDelayMs(10_000, 0.2);
      expect(d).toBeGreaterThanOrEqual(8_000);
      expect(d).toBeLessThanOrEqual(12_000);
    }
  });

  it('never goes below zero', () => {
    expect(jitteredDelayMs(100, 2, () => 0)).toBe(0);
  });
});
