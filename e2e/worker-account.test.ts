/**
 * One account served by two worker processes, against the emulator: a burst never overlaps
 * upstream; a 429 cools the account down, the registry row says so, and the cooldown outlives a
 * restart without a single upstream call.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { eventually } from './support/person.ts';
import { startChildWorker, uniqueEmail, type ChildWorker } from './support/worker.ts';

let emulator: Emulator;
let pool: pg.Pool;
const email = uniqueEmail('pair');
const workers: ChildWorker[] = [];
const env = { HEARTBEAT_INTERVAL_MS: '300', GEMINI_QUEUE_MAX_LENGTH: '50' };

const generations = () =>
  emulator.records().filter((r) => r.kind === 'generate' && r.email === email);

async function ask(worker: ChildWorker, content: string) {
  const res = await fetch(`${worker.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: Number(res.headers.get('retry-after')) };
}

const rowOf = async (worker: ChildWorker) =>
  (
    await pool.query<{
      status: string;
      cooldown_until: Date | null;
      cooldown_reason: string | null;
    }>(
      'select status, cooldown_until, cooldown_reason from gemini_service_nodes where node_url = $1',
      [`http://127.0.0.1:${new URL(worker.url).port}`],
    )
  ).rows[0];

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 15 });
  pool = new pg.Pool({ connectionString: inject('pgUrl') });
  pool.on('error', () => {});
  workers.push(await startChildWorker({ emulator, email, env }));
  workers.push(await startChildWorker({ emulator, email, env }));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await pool?.end();
  await emulator?.close();
});

describe('two worker processes, one account', () => {
  it('a burst split across both never overlaps upstream, and each prompt goes up once', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ask(workers[i % 2]!, `burst ${i}`)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const calls = generations().sort((a, b) => a.startedAt - b.startedAt);
    expect(calls).toHaveLength(10);
    expect(new Set(calls.map((c) => c.prompt)).size).toBe(10);
    for (let i = 1; i < calls.length; i += 1) {
      expect(calls[i]!.startedAt).toBeGreaterThanOrEqual(calls[i - 1]!.endedAt!);
    }
  });

  it('a 429 cools the account down: the row shows 429_LIMIT, and a restart keeps it', async () => {
    emulator.injectFault(email, 'usage_limit');
    const first = await ask(workers[0]!, 'hits the limit');
    expect(first.status).toBe(429);
    await eventually(async () => (await rowOf(workers[0]!))?.status === '429_LIMIT', 5_000);
    const row = await rowOf(workers[0]!);
    expect(row?.cooldown_reason).toBe('quota');
    expect(row!.cooldown_until!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    // The other process of the account refuses too, without touching Google.
    const before = generations().length;
    expect((await ask(workers[1]!, 'other process during the cooldown')).status).toBe(429);

    const { dataDir } = workers[0]!;
    await workers[0]!.stop('SIGTERM');
    workers[0] = await startChildWorker({ emulator, email, env, dataDir });
    const after = await ask(workers[0], 'after the restart');
    expect(after.status).toBe(429);
    expect(after.retryAfter).toBeGreaterThan(3000);
    expect(generations().length).toBe(before);
  });

  it('a graceful shutdown writes OFFLINE', async () => {
    const worker = workers[1]!;
    await eventually(async () => (await rowOf(worker)) !== undefined, 5_000);
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect((await rowOf(worker))?.status).toBe('OFFLINE');
  });
});
