/**
 * The orders in which a bench sends its rounds to the subjects it compares. A request that follows
 * another subject's answer shares the CPU with that subject's after-work (file writes, Redis, the
 * log line), so each subject must follow each other one equally often: a fixed order, or one
 * reversed or rotated each round, always puts the same subject behind the same other one.
 */

/**
 * Orders of `n` items in which every item follows every other one equally often, and each comes
 * first equally often (a Williams design: n orders for an even n, 2n for an odd one).
 */
export function balancedOrders(n: number): number[][] {
  const steps: number[] = [];
  for (let k = 0, low = 1, high = n - 1; k < n; k += 1) {
    steps.push(k === 0 ? 0 : k % 2 === 1 ? low++ : high--);
  }
  const rows = Array.from({ length: n }, (_, r) => steps.map((step) => (step + r) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => row.toReversed())];
}

/** `items` in the order of round `round` (rounds cycle through balancedOrders). */
export function inRound<T>(items: readonly T[], round: number): T[] {
  const orders = balancedOrders(items.length);
  return orders[round % orders.length]!.map((i) => items[i]!);
}
