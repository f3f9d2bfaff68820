/**
 * The gateway bench's client side: one chat request timed, and the phases built of them (warm-up,
 * side-by-side latencies, a first turn to continue from, throughput at a fixed concurrency), each
 * sent to every target in turn.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_HEADERS } from './harness.ts';
import { inRound } from './orders.ts';
import { since, summarize } from './stats.ts';

/** Requests through each target in each latency phase, WARMUP of them unmeasured. */
export const LATENCY_ROUNDS = 220;
const WARMUP = 20;
/** Requests in flight per target in the throughput phase. */
export const CONCURRENCY = 8;
/**
 * Requests through each target before any is measured. V8 optimises a function only after it has
 * run many times, on a background thread that takes a core from the measured processes (this
 * machine has two). After 20 requests the proxies were still half in V8's interpreter: the bare
 * Node proxy burned 2.6 ms of CPU per request, against 1.4–1.9 ms once warm. nginx, compiled,
 * never pays that, and a gateway in service runs warm.
 */
export const JIT_WARM_UP = 300;

/** Earlier turns sent before each prompt, by target (a continuation); none by default. */
export type Histories = Readonly<Record<string, readonly { role: string; content: string }[]>>;

/** One chat request; resolves to its whole time, or with `stream`, to the first content chunk. */
async function chat(
  base: string,
  prompt: string,
  stream = false,
  history: readonly { role: string; content: string }[] = [],
): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: BENCH_HEADERS,
    body: JSON.stringify({
      model: 'gemini-2.5-flash',
      stream,
      messages: [...history, { role: 'user', content: prompt }],
    }),
  });
  if (!res.ok || !res.body) {
    throw new Error(`${base} answered ${res.status}`);
  }
  let firstToken: number | null = null;
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    if (
      stream &&
      firstToken === null &&
      /"content":"[^"]/.test(decoder.decode(bytes as Uint8Array))
    ) {
      firstToken = since(start);
    }
  }
  return firstToken ?? since(start);
}

/** Requests per second each target answers at CONCURRENCY, in interleaved rounds. */
export async function throughputs(
  targets: Record<string, string>,
): Promise<Record<string, number>> {
  const done: Record<string, number> = Object.fromEntries(Object.keys(targets).map((k) => [k, 0]));
  // Short rounds, interleaved: on a shared machine the load moves during a run.
  const roundMs = 1000;
  const rounds = 4;
  for (let r = 0; r < rounds; r += 1) {
    for (const [name, base] of Object.entries(targets)) {
      const end = performance.now() + roundMs;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, c) => {
          for (let i = 0; performance.now() < end; i += 1) {
            await chat(base, `throughput ${r}-${c}-${i}`);
            done[name]! += 1;
          }
        }),
      );
    }
  }
  return Object.fromEntries(
    Object.entries(done).map(([k, n]) => [k, (n / (roundMs * rounds)) * 1000]),
  );
}

/** JIT_WARM_UP requests through each target in turn, unmeasured. */
export async function warmUp(targets: Record<string, string>): Promise<void> {
  for (let i = 0; i < JIT_WARM_UP; i += 1) {
    for (const base of Object.values(targets)) {
      await chat(base, `gateway warm-up ${i}`, i % 2 === 1);
    }
  }
}

/** p50/p99 of each target, requests interleaved so load hits every target alike. */
export async function latencies(
  targets: Record<string, string>,
  stream: boolean,
  histories: Histories = {},
): Promise<Record<string, ReturnType<typeof summarize>>> {
  const out: Record<string, number[]> = Object.fromEntries(
    Object.keys(targets).map((k) => [k, []]),
  );
  const entries = Object.entries(targets);
  for (let i = 0; i < LATENCY_ROUNDS; i += 1) {
    // Rotating the order each round put every target behind the same other one every time.
    for (const [name, base] of inRound(entries, i)) {
      const ms = await chat(base, `gateway latency ${i}`, stream, histories[name]);
      if (i >= WARMUP) {
        out[name]!.push(ms);
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, summarize(v)]));
}

/** A first turn through each target; the history its continuations send (bound to the worker). */
export async function firstTurns(targets: Record<string, string>): Promise<Histories> {
  const out: Record<string, { role: string; content: string }[]> = {};
  for (const [name, base] of Object.entries(targets)) {
    const question = { role: 'user', content: `a first turn through ${name}` };
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: BENCH_HEADERS,
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [question] }),
    });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    out[name] = [question, { role: 'assistant', content: body.choices[0]!.message.content }];
  }
  // The bindings are written behind, within 50 ms: a baseline without a cache reads them there.
  await sleep(500);
  return out;
}
