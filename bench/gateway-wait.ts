/** Waiting for a bench gateway's node table to show the node a measure needs. */
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_ADMIN_KEY } from './bench-keys.ts';

/**
 * Waits until the gateway routes to an eligible node; with `only`, until that node is the only
 * eligible one, since a gateway's table lags the registry by its refresh and a node stopped a
 * moment ago still looks fresh to it.
 */
export async function waitEligible(
  gateway: { readonly url: string },
  only?: string,
): Promise<void> {
  const headers = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
  for (let i = 0; i < 100; i += 1) {
    const r = (await fetch(`${gateway.url}/health`, { headers }).then((x) => x.json())) as {
      eligible?: number;
      nodes?: { nodeUrl: string; eligible: boolean }[];
    };
    const eligible = (r.nodes ?? []).filter((n) => n.eligible).map((n) => n.nodeUrl);
    if (only === undefined ? eligible.length > 0 : eligible.join() === only) {
      return;
    }
    await sleep(200);
  }
  throw new Error(`the gateway at ${gateway.url} never saw ${only ?? 'an eligible node'}`);
}
