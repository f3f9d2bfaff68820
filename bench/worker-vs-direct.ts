/**
 * Issue 2's figures, side by side in one run: the same prompt answered by the Gemini client
 * directly against the emulator, and through a worker (HTTP + queue + account guard + client).
 * Prints p50/p99 (streamed and not), the worker's added latency and CPU per request, its per-frame
 * relay delay (frame-relay.ts), and its memory with 200 queued requests.
 */
import { FileCookieSource } from '../src/browser/index.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import { GeminiClient, createHttpClient } from '../src/gemini/index.ts';
import { createLogger } from '../src/logging.ts';
import { tempDir } from '../e2e/support/services.ts';
import {
  baseline,
  emulatorCookieFile,
  probePath,
  profilePath,
  startBenchWorker,
  toggleAllocWindow,
  type ChildService,
  type Services,
} from './harness.ts';
import { readAllocWindow, reportAllocators, youngGenerationLine } from './alloc-report.ts';
import { benchFrameRelay, FRAME_RUNS } from './frame-relay.ts';
import { LATENCY_RUNS, latency, startWorkerFloor, workerRun } from './worker-latency.ts';
import { reportProfile } from './profile-report.ts';
import { reportTimeline } from './timeline-report.ts';
import { printLine, record } from './stats.ts';

/** The emulator account of each subject, by the label the rows print. */
const ACCOUNTS: Readonly<Record<string, string>> = {
  direct: 'bench-direct@example.com',
  worker: 'bench-worker@example.com',
  baseline: 'bench-baseline@example.com',
};

/** A Gemini client of its own, on a fresh emulator account, reading cookies from a file. */
export async function directClient(emulator: BenchEmulator): Promise<GeminiClient> {
  const file = await emulatorCookieFile(emulator, tempDir('bench-direct'), ACCOUNTS['direct']!);
  return new GeminiClient({
    http: createHttpClient({ hostResolverRules: emulator.hostResolverRules() }),
    cookies: new FileCookieSource(file),
    logger: createLogger({ silent: true }),
    stallTimeoutMs: 30_000,
  });
}

const ALLOC_RUNS = 100;

/**
 * With --alloc: the heap bytes each worker allocates per request (half streamed), over a window
 * after the latency rows' warm-up, and where (bench/alloc-probe.ts in the child).
 */
async function allocation(workers: readonly (readonly [string, ChildService])[]): Promise<void> {
  for (const [who, worker] of workers) {
    const file = probePath('alloc', who);
    if (!file) {
      return;
    }
    toggleAllocWindow(worker);
    for (let i = 0; i < ALLOC_RUNS; i += 1) {
      await workerRun(worker, `latency ${i}`, false);
      await workerRun(worker, `latency ${i}`, true);
    }
    toggleAllocWindow(worker);
    const w = await readAllocWindow(file);
    const requests = 2 * ALLOC_RUNS;
    const kb = w.allocatedBytes / requests / 1024;
    printLine(
      `\n${who} heap allocated per request: ${kb.toFixed(1)} KB (${requests} requests, ${w.scavenges} scavenges, ${w.markSweeps} mark-sweeps, GC pauses ${w.gcPauseMs.toFixed(1)} ms in all)`,
    );
    printLine(youngGenerationLine(w, requests));
    reportAllocators(file, requests);
    record({
      measure: `${who} heap allocated per request`,
      target: '-',
      measured: `${kb.toFixed(1)} KB`,
      pass: null,
    });
  }
}

const QUEUED = 200;

/** RSS while the account's queue holds QUEUED streaming requests (one runs, the rest wait). */
async function memory(emulator: BenchEmulator, worker: ChildService): Promise<void> {
  await emulator.setOptions({ chunkDelayMs: 5 });
  const baseline = worker.rssMiB();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, worker.rssMiB())), 25);
  const results = await Promise.allSettled(
    Array.from({ length: QUEUED }, (_, i) => workerRun(worker, `memory ${i}`, true)),
  );
  clearInterval(timer);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  printLine(`\nWorker memory with ${QUEUED} queued streaming requests (built dist/)`);
  printLine(
    `  RSS baseline ${baseline.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB, ${ok}/${QUEUED} streams completed   (target: < 200 MB)`,
  );
  const peakMB = (peak * 1024 * 1024) / 1e6;
  record({
    measure: `worker RSS, ${QUEUED} queued (${ok} done)`,
    target: '< 200 MB',
    measured: `${peakMB.toFixed(1)} MB`,
    pass: peakMB < 200 && ok === QUEUED,
  });
}

export async function benchWorkerVsDirect(
  emulator: BenchEmulator,
  services: Services,
): Promise<void> {
  const client = await directClient(emulator);
  const worker = await startBenchWorker(
    emulator,
    services,
    ACCOUNTS['worker']!,
    {},
    {
      profileAs: 'worker',
      allocAs: 'worker',
      timelineAs: 'worker',
    },
  );
  const base = baseline();
  const before = base
    ? await startBenchWorker(
        emulator,
        services,
        ACCOUNTS['baseline']!,
        {},
        { root: base, allocAs: 'baseline', timelineAs: 'baseline' },
      )
    : null;
  const floor = await startWorkerFloor(emulator);
  const subjects: [string, ChildService][] = before
    ? [
        ['worker', worker],
        ['baseline', before],
      ]
    : [['worker', worker]];
  try {
    await latency(emulator, client, [...subjects, ['floor', floor]]);
    await allocation(subjects);
    await benchFrameRelay(emulator, client, subjects, ACCOUNTS);
    await memory(emulator, worker);
  } finally {
    await floor.stop();
    await before?.stop();
    await worker.stop();
    await client.close();
  }
  for (const [who] of subjects) {
    const file = probePath('timeline', who);
    if (file) {
      reportTimeline(who, file);
    }
  }
  const profile = profilePath('worker');
  if (profile) {
    reportProfile(profile, 20 * 2 + LATENCY_RUNS * 2 + FRAME_RUNS + QUEUED);
  }
}
