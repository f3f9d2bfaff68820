/**
 * The worker's added latency, side by side in one run: the same prompt answered by the Gemini
 * client directly, through each worker (this build, and the --baseline build if any), and through
 * the floor (bare-worker.ts: a bare Node server around the same client), taking turns.
 */
import { findModel, type GeminiClient } from '../src/gemini/index.ts';
import { tempDir } from '../e2e/support/services.ts';
import { startScript } from './gateway-streams.ts';
import { emulatorCookieFile, postChat, type ChildService } from './harness.ts';
import { inRound } from './orders.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import { cpuMsOf, loadAverage, printLine, printRow, record, since, summarize } from './stats.ts';
import type { Summary } from './stats.ts';

const MODEL = findModel('gemini-2.5-flash')!;

/** What a latency subject must offer: where it listens, and its process (for its CPU time). */
export type Served = Pick<ChildService, 'url' | 'pid'>;

/** The floor: bare-worker.ts on an emulator account of its own. */
export async function startWorkerFloor(
  emulator: BenchEmulator,
): Promise<Served & { stop(): Promise<void> }> {
  const file = await emulatorCookieFile(
    emulator,
    tempDir('bench-floor'),
    'bench-floor@example.com',
  );
  return startScript('bare-worker.ts', [file, emulator.hostResolverRules()]);
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
  worker: Served,
  prompt: string,
  stream: boolean,
): Promise<number[]> {
  const start = performance.now();
  const body = await postChat(worker.url, {
    model: MODEL.name,
    stream,
    messages: [{ role: 'user', content: prompt }],
  });
  const times: number[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of body) {
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

export const LATENCY_RUNS = 200;

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
  readonly worker: Served;
  readonly plain: number[];
  readonly streamed: number[];
  cpuMs: number;
}

/**
 * Direct, then each subject (the workers, and 'floor' if given), one request each. The floor's
 * rows are not judged; each worker's p50 over the floor is printed beside them.
 */
export async function latency(
  emulator: BenchEmulator,
  client: GeminiClient,
  workers: readonly (readonly [string, Served])[],
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
    // Reversing the order each round left the middle one of three always behind another worker:
    // the baseline ran 0.15-0.40 ms slower than the same build beside it (bench/orders.ts).
    for (const s of inRound(subjects, i)) {
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
    const server = s.who === 'floor' ? 'bare Node server' : 'worker';
    printRow(`${s.who}, not streamed: HTTP -> ${server} -> emulator`, summarize(s.plain));
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
  const floor = subjects.find((s) => s.who === 'floor');
  if (floor) {
    subjects.filter((s) => s !== floor).forEach((s) => recordOverFloor(s, floor));
  }
}

/** A worker's p50 minus the floor's (unjudged): what our own code adds over Node's HTTP hop. */
function recordOverFloor(s: Subject, floor: Subject): void {
  for (const [label, w, f] of [
    ['not streamed', s.plain, floor.plain],
    ['streamed', s.streamed, floor.streamed],
  ] as const) {
    const over = summarize(w).p50 - summarize(f).p50;
    printLine(`  ${s.who} over the floor, ${label}: p50 ${over.toFixed(2)} ms`);
    record({
      measure: `${s.who} added p50 over the floor, ${label}`,
      target: '-',
      measured: `${over.toFixed(2)} ms`,
      pass: null,
    });
  }
}
