/** balancedOrders: every subject follows every other one, and comes first, equally often. */
import { describe, expect, it } from 'vitest';
import { balancedOrders, inRound } from '../../../bench/orders.ts';

describe('balancedOrders', () => {
  it.each([2, 3, 4, 5, 6])('%i items: each order a permutation, each pair adjacent alike', (n) => {
    const orders = balancedOrders(n);
    expect(orders).toHaveLength(n % 2 === 0 ? n : 2 * n);
    const follows = new Map<string, number>();
    const firsts = new Map<number, number>();
    for (const order of orders) {
      expect([...order].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
      firsts.set(order[0]!, (firsts.get(order[0]!) ?? 0) + 1);
      for (let i = 1; i < n; i += 1) {
        const pair = `${order[i - 1]}>${order[i]}`;
        follows.set(pair, (follows.get(pair) ?? 0) + 1);
      }
    }
    expect(follows.size).toBe(n * (n - 1));
    expect(new Set(follows.values()).size).toBe(1);
    expect(new Set(firsts.values())).toEqual(new Set([orders.length / n]));
  });

  it('inRound cycles through the orders', () => {
    const items = ['worker', 'baseline', 'floor'];
    const rounds = Array.from({ length: 7 }, (_, r) => inRound(items, r).join(','));
    expect(new Set(rounds.slice(0, 6)).size).toBe(6);
    expect(rounds[6]).toBe(rounds[0]);
  });
});
