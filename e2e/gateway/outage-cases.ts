/**
 * The gateway in front of real workers when something under it goes away, from
 * e2e/gateway.test.ts: a whole minute without PostgreSQL (it routes from its last table and says
 * how stale it is), and a worker SIGKILLed mid-stream (a clear error after exactly one send).
 * They stop PostgreSQL and kill a worker, so the suite runs them last.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { stackHealth, untilHealth, type GatewayStack } from '../support/gateway-stack.ts';
import { ask, MODEL, sendsOf } from './stack.ts';

/** Defines the cases; `stack()` is the suite's running stack, `run` tells its prompts apart. */
export function outageCases(stack: () => GatewayStack, run: string): void {
  it('routes through a whole minute without PostgreSQL, and shows how stale its table is', async () => {
    await stack().pg.stop();
    const startedAt = Date.now();
    const failures: string[] = [];
    let served = 0;
    let midway: Awaited<ReturnType<typeof stackHealth>> | null = null;
    let tableAgeS = 0;
    try {
      while (Date.now() - startedAt < 60_000) {
        const prompt = `pg away ${run} ${served + failures.length}`;
        await ask(stack(), [{ role: 'user', content: prompt }]).then(
          () => (served += 1),
          (err: unknown) => failures.push(`${prompt}: ${String(err)}`),
        );
        if (midway === null && Date.now() - startedAt > 30_000) {
          midway = await stackHealth(stack().url);
          const metrics = await (await fetch(`${stack().url}/metrics`)).text();
          tableAgeS = Number(/^gateway_node_table_age_seconds (\S+)$/m.exec(metrics)?.[1]);
        }
        await sleep(500);
      }
    } finally {
      await stack().pg.start();
    }
    console.log(`gateway without PostgreSQL for 60 s: ${served} served, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
    expect(midway).toMatchObject({
      status: 'registry_unreachable',
      eligible: stack().workers.length,
    });
    expect(midway?.registryAgeMs).toBeGreaterThan(29_000);
    expect(tableAgeS).toBeGreaterThan(29);
    await untilHealth(stack().url, (h) => h.status === 'ok' && (h.registryAgeMs ?? 1e9) < 2000);
  }, 120_000);

  it('answers a worker SIGKILLed mid-stream with a clear error, after exactly one send', async () => {
    stack().emulator.setOptions({ chunkDelayMs: 1000 });
    const prompt = `killed ${run}`;
    try {
      const stream = await stack()
        .openai()
        .chat.completions.create({
          model: MODEL,
          stream: true,
          messages: [{ role: 'user', content: prompt }],
        });
      const chunks = stream[Symbol.asyncIterator]();
      await chunks.next();
      const email = sendsOf(stack(), prompt)[0]?.email;
      const victim = stack().workers.find((w) => w.email === email);
      expect(victim).toBeDefined();
      await victim?.worker.stop('SIGKILL');
      let error: unknown = null;
      try {
        while (!(await chunks.next()).done) {
          // drain until the error event
        }
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_outcome_unknown');
      // Time for anything that would send it again (the gateway, the survivor) to have done so.
      await sleep(3000);
      expect(sendsOf(stack(), prompt)).toHaveLength(1);
    } finally {
      stack().emulator.setOptions({ chunkDelayMs: 10 });
    }
  }, 60_000);
}
