/**
 * Issue 2's figures, side by side in one run: the same prompt answered by the Gemini client
 * directly against the emulator, and through a worker (HTTP + queue + account guard + client).
 * Prints p50/p99 (streamed and not), the worker's added latency and CPU per request, its per-frame
 * relay delay (frame-relay.ts), and its memory with 200 queued requests.
 */
import path from 'node:path';
import { FileCookieSource, writeCookieCache } from '../src/browser/index.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import { GeminiClient, createHttpClient, findModel } from '../src/gemini/index.ts';
import { createLogger } from '../src/logging.ts';
import { tempDir } from '../e2e/support/services.ts';
import {
  BENCH_HEADERS,
  baseline,
  probePath,
  profilePath,
  startBenchWorker,
  toggleAllocWindow,
  type ChildService,
  type Services,
} from './harness.ts';
import { readAllocWindow, reportAllocators } from './alloc-report.ts';
import { benchFrameRelay, FRAME_RUNS } from './frame-relay.ts';
import { reportProfile } from './profile-report.ts';
import { reportTimeline } from './timeline-report.ts';
import {
  cpuMsOf,
  loadAverage,
  printLine,
  printRow,
  record,
  since,
  summarize,
  type Summary,
} from './stats.ts';

const MODEL = findModel('gemini-2.5-flash')!;
/** The emulator account of each subject, by the label the rows print. */
const ACCOUNTS: Readonly<Record<string, string>> = {
  direct: 'bench-direct@example.com',
  worker: 'bench-worker@example.com',
  baseline: 'bench-baseline@example.com',
};

/** A Gemini client of its own, on a fresh emulator account, reading cookies from a file. */
export async function directClient(emulator: BenchEmulator): Promise<GeminiClient> {
  const file = path.join(tempDir('bench-direct'), 'cookie_cache.json');
  await writeCookieCache(file, (await emulator.createAccount(ACCOUNTS['direct']!)).cookies);
  return new GeminiClient({
    http: createHttpClient({ hostResolverRules: emulator.hostResolverRules() }),
    cookies: new FileCookieSource(file),
    logger: createLogger({ silent: true }),
    stallTimeoutMs: 30_000,
  });
}

/** Arrival times (ms from start) of each text delta. */
export async function directRun(client: GeminiClient, prompt: string): Promise<number[]> {
  const start = performance.now();
  const times: number[] = [];
  for await (const ev of client.generate({ prompt, model: MODEL })) {
    if (ev.type === 'text') {
      times.push(since(start));
    } else if (ev.type === 'done') {
      times.push(since(start));
    }
  }
  return times;
}

/** Arrival times (ms from start) of each content chunk through the worker, and the end. */
export async function workerRun(
  worker: ChildService,
  prompt: string,
  stream: boolean,
): Promise<number[]> {
  const start = performance.now();
  const res = await fetch(`${worker.url}/v1/chat/completions`, {
    method: 'POST',
    headers: BENCH_HEADERS,
    body: JSON.stringify({
      model: MODEL.name,
      stream,
      messages: [{ role: 'user', content: prompt }],
    }),
  });
  if (!res.ok || !res.body) {
    throw new Error(`worker answered ${res.status}: ${await res.text()}`);
  }
  const times: number[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    for (const line of text.split('\n')) {
      if (line.includes('"content":"') && line.startsWith('data: ')) {
        times.push(since(start));
      }
    }
  }
  times.push(since(start));
  return times;
}

const LATENCY_RUNS = 200;

/** Worker minus direct at p50 and p99, against the targets (3 ms, 8 ms) unless a baseline. */
function recordAdded(who: string, label: string, d: Summary, w: Summary, judged: boolean): void {
  const p50 = w.p50 - d.p50;
  const p99 = w.p99 - d.p99;
  printLine(`  added by the ${who}, ${label}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
  for (const [p, value, target] of [
    ['p50', p50, 3],
    ['p99', p99, 8],
  ] as const) {
    record({
      measure: `${who} added ${p}, ${label}`,
      target: judged ? `<= ${target} ms` : '-',
      measured: `${value.toFixed(2)} ms`,
      pass: judged ? value <= target : null,
    });
  }
}

interface Subject {
  readonly who: string;
  readonly worker: ChildService;
  readonly plain: number[];
  readonly streamed: number[];
  cpuMs: number;
}

/** Direct, then each worker (this build, and the --baseline build if any), one request each. */
async function latency(
  emulator: BenchEmulator,
  client: GeminiClient,
  workers: readonly (readonly [string, ChildService])[],
): Promise<void> {
  await emulator.setOptions({ chunkDelayMs: 0 });
  const direct: number[] = [];
  const subjects: Subject[] = workers.map(([who, worker]) => ({
    who,
    worker,
    plain: [],
    streamed: [],
    cpuMs: 0,
  }));
  for (let i = 0; i < 20; i += 1) {
    await directRun(client, `warm-up ${i}`);
    for (const s of subjects) {
      await workerRun(s.worker, `warm-up ${i}`, false);
      await workerRun(s.worker, `warm-up ${i}`, true);
    }
  }
  subjects.forEach((s) => (s.cpuMs = cpuMsOf(s.worker.pid)));
  for (let i = 0; i < LATENCY_RUNS; i += 1) {
    direct.push((await directRun(client, `latency ${i}`)).at(-1)!);
    // Taking turns at going first: the one that follows another worker's reply shares the CPU
    // with its after-work (file writes, Redis), which would otherwise always favour the first.
    for (const s of i % 2 === 0 ? subjects : subjects.toReversed()) {
      s.plain.push((await workerRun(s.worker, `latency ${i}`, false)).at(-1)!);
      s.streamed.push((await workerRun(s.worker, `latency ${i}`, true)).at(-1)!);
    }
  }
  const d = summarize(direct);
  printLine(`\nWorker vs direct (emulator with no frame delay; load average ${loadAverage()})`);
  printRow('direct: GeminiClient -> emulator', d);
  for (const s of subjects) {
    const judged = s.who === 'worker';
    const cpu = (cpuMsOf(s.worker.pid) - s.cpuMs) / (2 * LATENCY_RUNS);
    printRow(`${s.who}, not streamed: HTTP -> worker -> emulator`, summarize(s.plain));
    printRow(`${s.who}, streamed (to the last byte)`, summarize(s.streamed));
    recordAdded(s.who, 'not streamed', d, summarize(s.plain), judged);
    recordAdded(s.who, 'streamed', d, summarize(s.streamed), judged);
    printLine(`  ${s.who} CPU per request (user + sys): ${cpu.toFixed(2)} ms`);
    record({
      measure: `${s.who} CPU per request (user+sys)`,
      target: '-',
      measured: `${cpu.toFixed(2)} ms`,
      pass: null,
    });
  }
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
  const subjects: [string, ChildService][] = before
    ? [
        ['worker', worker],
        ['baseline', before],
      ]
    : [['worker', worker]];
  try {
    await latency(emulator, client, subjects);
    await allocation(subjects);
    await benchFrameRelay(emulator, client, subjects, ACCOUNTS);
    await memory(emulator, worker);
  } finally {
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
