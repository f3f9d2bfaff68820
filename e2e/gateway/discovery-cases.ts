/**
 * Discovery's cases on e2e/gateway.test.ts's stack (a free, a Pro and a Plus worker asking every
 * DISCOVERY_S seconds): otAQ7b runs in each account's line, so the emulator never sees it during
 * a generation of the same account; and the page's bootstrap lists decide which models think.
 */
import { expect, it } from 'vitest';
import type { UpstreamRecord } from '../../src/emulator/index.ts';
import type { GatewayStack } from '../support/gateway-stack.ts';
import { DISCOVERY_S } from '../support/gateway-models.ts';

interface HealthModels {
  account_models: { source: string; models: { name: string; thinking: boolean }[] };
}

/** Chats to one worker, one after another, until `untilMs` (epoch). */
async function chatUntil(workerUrl: string, untilMs: number, tag: string): Promise<number> {
  let sent = 0;
  while (Date.now() < untilMs) {
    const res = await fetch(`${workerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-3-flash',
        messages: [{ role: 'user', content: `line ${tag} ${sent}: one two three four five six` }],
      }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    sent += 1;
  }
  return sent;
}

const overlaps = (a: UpstreamRecord, b: UpstreamRecord): boolean =>
  a.startedAt < (b.endedAt ?? Infinity) && b.startedAt < (a.endedAt ?? Infinity);

/** Defines the cases; `stack()` is the suite's running stack. */
export function defineDiscoveryTests(stack: () => GatewayStack, run: string): void {
  it("discovery's otAQ7b waits its turn in the account's line: never during a generation", async () => {
    const since = Date.now();
    // Slow answers, so that chats fill most of each worker's time while discovery keeps asking.
    stack().emulator.setOptions({ chunkDelayMs: 120 });
    try {
      const until = since + DISCOVERY_S * 1000 + 1500;
      const sent = await Promise.all(
        stack().workers.map((w) => chatUntil(w.worker.url, until, `${run} ${w.tier}`)),
      );
      expect(Math.min(...sent)).toBeGreaterThan(0);
    } finally {
      stack().emulator.setOptions({ chunkDelayMs: 10 });
    }
    const records = stack()
      .emulator.records()
      .filter((r) => r.startedAt >= since);
    for (const { email } of stack().workers) {
      const mine = records.filter((r) => r.email === email);
      const asks = mine.filter((r) => r.kind === 'batchexecute');
      const generations = mine.filter((r) => r.kind === 'generate');
      expect(asks.length).toBeGreaterThan(0);
      expect(generations.length).toBeGreaterThan(1);
      const clashes = asks.filter((a) => generations.some((g) => overlaps(a, g)));
      expect(clashes).toEqual([]);
    }
  });

  it("takes the thinking flags from the page's lists, the set from otAQ7b", async () => {
    const plus = stack().workers.find((w) => w.tier === 'plus');
    const res = await fetch(`${plus?.worker.url}/health`);
    const health = (await res.json()) as HealthModels;
    expect(health.account_models.source).toBe('discovered');
    const thinking = health.account_models.models.filter((m) => m.thinking).map((m) => m.name);
    expect(thinking).toEqual(['gemini-3-flash-thinking']);
  });
}
