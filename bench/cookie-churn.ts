/**
 * Issue 19's figure: does a worker stay as fast after its 2 000th request as for its first, when
 * the upstream (like Google) sets fresh __Secure-1PSIDCC / __Secure-3PSIDCC on every response?
 * The worker's added latency (worker minus direct, side by side) over the first 200 requests of a
 * fresh worker (after 20 to warm the JIT up, so a cold start does not hide growth) and over
 * requests 2 001–2 200; the requests in between run at concurrency 4.
 */
import type { BenchEmulator } from './remote-emulator.ts';
import type { GeminiClient } from '../src/gemini/index.ts';
import { startBenchWorker, type ChildService, type Services } from './harness.ts';
import { printLine, printRow, record, since, summarize, type Summary } from './stats.ts';
import { directClient } from './worker-vs-direct.ts';
import { directRun, workerRun } from './worker-latency.ts';

const WARM_UP = 20;
const WINDOW = 200;
const SECOND_WINDOW_START = 2000;
const CONCURRENCY = 4;
const TARGET_MS = 1;
const RSS_EVERY = 300;

interface Window {
  direct: Summary;
  worker: Summary;
  addedP50: number;
}

/** `WINDOW` requests, each answered directly and through the worker, one after the other. */
async function sideBySide(
  client: GeminiClient,
  worker: ChildService,
  label: string,
): Promise<Window> {
  const direct: number[] = [];
  const viaWorker: number[] = [];
  for (let i = 0; i < WINDOW; i += 1) {
    direct.push((await directRun(client, `${label} ${i}`)).at(-1)!);
    viaWorker.push((await workerRun(worker, `${label} ${i}`, false)).at(-1)!);
  }
  const d = summarize(direct);
  const w = summarize(viaWorker);
  return { direct: d, worker: w, addedP50: w.p50 - d.p50 };
}

/** `count` requests through the worker, `CONCURRENCY` at a time; only their cookies matter. */
async function churn(worker: ChildService, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next += 1;
        await workerRun(worker, `churn ${next}`, false);
      }
    }),
  );
}

/** Prints both windows, the difference at p50, and PASS/MISS against the 1 ms target. */
export async function benchCookieChurn(emulator: BenchEmulator, services: Services): Promise<void> {
  await emulator.setOptions({ chunkDelayMs: 0 });
  const client = await directClient(emulator);
  const worker = await startBenchWorker(emulator, services, 'bench-churn@example.com');
  try {
    for (let i = 0; i < WARM_UP; i += 1) {
      await directRun(client, `warm-up ${i}`);
      await workerRun(worker, `warm-up ${i}`, false);
    }
    printLine('\nWorker under cookie churn (fresh PSIDCC on every upstream response)');
    const first = await sideBySide(client, worker, 'first');
    const firstLabel = `requests ${WARM_UP + 1}-${WARM_UP + WINDOW}`;
    printRow(`${firstLabel}: direct`, first.direct);
    printRow(`${firstLabel}: worker`, first.worker);
    const rssFirst = worker.rssMiB();
    const churnStart = performance.now();
    const between = SECOND_WINDOW_START - WARM_UP - WINDOW;
    // RSS along the way: V8 grows and shrinks its heap with GC timing, so one reading at each
    // end can look like a leak; a series shows whether it keeps climbing or levels off.
    const rssSeries: string[] = [];
    for (let done = 0; done < between; done += RSS_EVERY) {
      await churn(worker, Math.min(RSS_EVERY, between - done));
      rssSeries.push(worker.rssMiB().toFixed(0));
    }
    printLine(
      `  ${between} requests in between, ${CONCURRENCY} at a time: ${(since(churnStart) / 1000).toFixed(1)} s`,
    );
    printLine(`  worker RSS every ${RSS_EVERY} of them, MiB: ${rssSeries.join(', ')}`);
    const later = await sideBySide(client, worker, 'later');
    const laterLabel = `requests ${SECOND_WINDOW_START + 1}-${SECOND_WINDOW_START + WINDOW}`;
    printRow(`${laterLabel}: direct`, later.direct);
    printRow(`${laterLabel}: worker`, later.worker);
    const growth = later.addedP50 - first.addedP50;
    const verdict = growth <= TARGET_MS ? 'PASS' : 'MISS';
    printLine(
      `  added by the worker at p50: ${first.addedP50.toFixed(2)} ms first, ` +
        `${later.addedP50.toFixed(2)} ms later, growth ${growth.toFixed(2)} ms   ` +
        `(target: growth <= ${TARGET_MS} ms) ${verdict}`,
    );
    record({
      measure: 'worker added p50 growth over 2 000 requests',
      target: `<= ${TARGET_MS} ms`,
      measured: `${growth.toFixed(2)} ms`,
      pass: growth <= TARGET_MS,
    });
    printLine(
      `  worker RSS ${rssFirst.toFixed(1)} MiB after the first window, ${worker.rssMiB().toFixed(1)} MiB after the last`,
    );
  } finally {
    await worker.stop();
    await client.close();
  }
}
