/**
 * Issue 16's "per-frame relay stays within 5 ms": for each upstream frame, when it reached the
 * client minus when the emulator wrote it, through the worker and (the floor: TLS + parse) through
 * the Gemini client directly. Both ends stamp with `performance.timeOrigin + performance.now()`,
 * one clock for every process on the machine, so neither run's timer jitter counts.
 */
import { wallClockMs, type FrameLogEntry } from '../src/emulator/index.ts';
import { findModel, type GeminiClient } from '../src/gemini/index.ts';
import { postChat, type ChildService } from './harness.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import {
  clockOffset,
  frameDelays,
  SseContentReader,
  type ArrivedEvent,
  type FrameDelays,
} from './frame-match.ts';
import { printLine, printRow, record, summarize } from './stats.ts';

const MODEL = findModel('gemini-2.5-flash')!;
/** Streams per subject; each answer has 4 to 8 snapshot frames. */
export const FRAME_RUNS = 40;
const FRAME_GAP_MS = 20;
const TARGET_MS = 5;

/** Each text event of the direct client, stamped on arrival. */
async function directEvents(client: GeminiClient, prompt: string): Promise<ArrivedEvent[]> {
  const events: ArrivedEvent[] = [];
  let length = 0;
  for await (const ev of client.generate({ prompt, model: MODEL })) {
    if (ev.type === 'text' && ev.delta !== '') {
      length += ev.delta.length;
      events.push({ atMs: wallClockMs(), textLength: length });
    }
  }
  return events;
}

/** Each content event of a streamed chat completion through the worker, stamped on arrival. */
async function workerEvents(worker: ChildService, prompt: string): Promise<ArrivedEvent[]> {
  const body = await postChat(worker.url, {
    model: MODEL.name,
    stream: true,
    messages: [{ role: 'user', content: prompt }],
  });
  const reader = new SseContentReader();
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    reader.push(decoder.decode(chunk, { stream: true }), wallClockMs());
  }
  return reader.events;
}

/** The emulator's clock against ours: near 0 on one machine, printed so the reader can trust it. */
async function measureClockOffset(emulator: BenchEmulator): Promise<string> {
  const probes = [];
  for (let i = 0; i < 20; i += 1) {
    const sentMs = wallClockMs();
    const theirsMs = await emulator.clockMs();
    probes.push({ sentMs, theirsMs, receivedMs: wallClockMs() });
  }
  const { offsetMs, withinMs } = clockOffset(probes);
  return `${offsetMs.toFixed(3)} ms ± ${withinMs.toFixed(3)} ms`;
}

interface Run {
  /** The emulator account the answer was asked with. */
  readonly email: string;
  readonly prompt: string;
  readonly events: ArrivedEvent[];
}

/** The old measure, kept as a line only: frame k's arrival gaps against a separate direct run. */
function gapsAgainst(direct: readonly Run[], subject: readonly Run[]): number[] {
  const gaps: number[] = [];
  direct.forEach((d, i) => {
    const w = subject[i]?.events ?? [];
    const n = Math.min(d.events.length, w.length);
    for (let k = 1; k < n; k += 1) {
      gaps.push(w[k]!.atMs - w[0]!.atMs - (d.events[k]!.atMs - d.events[0]!.atMs));
    }
  });
  return gaps;
}

/** Runs the streams, matches every event to its frame, and records the rows. */
export async function benchFrameRelay(
  emulator: BenchEmulator,
  client: GeminiClient,
  workers: readonly (readonly [string, ChildService])[],
  accounts: Readonly<Record<string, string>>,
): Promise<void> {
  await emulator.setOptions({ chunkDelayMs: FRAME_GAP_MS });
  await emulator.clearFrames();
  const runs = new Map<string, Run[]>([
    ['direct', []],
    ...workers.map(([who]) => [who, []] as [string, Run[]]),
  ]);
  const stream = async (label: string, prompt: string, events: Promise<ArrivedEvent[]>) =>
    runs.get(label)!.push({ email: accounts[label] ?? '', prompt, events: await events });
  for (let i = 0; i < FRAME_RUNS; i += 1) {
    // The same prompt for every subject: the same answer, in the same number of frames.
    const prompt = `frames ${i} with a longer answer so that several snapshots stream`;
    await stream('direct', prompt, directEvents(client, prompt));
    for (const [who, worker] of i % 2 === 0 ? workers : workers.toReversed()) {
      await stream(who, prompt, workerEvents(worker, prompt));
    }
  }
  const offset = await measureClockOffset(emulator);
  const logged = await emulator.frames();
  const delays = new Map([...runs].map(([label, list]) => [label, delaysOf(list, logged)]));
  printLine(
    `\nPer-frame relay (streaming, ${FRAME_GAP_MS} ms between upstream frames): client arrival minus the emulator's write, one clock (emulator clock offset ${offset})`,
  );
  const floor = summarize(delays.get('direct')!.delays);
  printRow('direct: GeminiClient (the floor: TLS + parse)', floor);
  reportUnmatched('direct', delays.get('direct')!);
  for (const [who] of workers) {
    const { delays: own } = delays.get(who)!;
    const raw = summarize(own);
    printRow(`${who}: HTTP -> worker -> emulator`, raw);
    const net = summarize(own.map((d) => d - floor.p50));
    printRow(`${who} minus the direct p50`, net);
    reportUnmatched(who, delays.get(who)!);
    const judged = who === 'worker';
    for (const [p, value] of [
      ['p50', net.p50],
      ['p99', net.p99],
    ] as const) {
      record({
        measure: `${who} per-frame relay ${p}, minus direct p50 (${floor.p50.toFixed(2)} ms)`,
        target: judged ? `<= ${TARGET_MS} ms` : '-',
        measured: `${value.toFixed(2)} ms`,
        pass: judged ? value <= TARGET_MS : null,
      });
    }
    printRow(
      `${who}: frame gaps vs a separate direct run (unjudged)`,
      summarize(gapsAgainst(runs.get('direct')!, runs.get(who)!)),
    );
  }
  printLine(
    `  (target: each upstream frame reaches the client within ${TARGET_MS} ms of the floor)`,
  );
}

/** Events no logged frame explains would be a bug in the matching: said, never hidden. */
function reportUnmatched(who: string, { unmatched }: FrameDelays): void {
  if (unmatched > 0) {
    printLine(`  (${unmatched} ${who} events matched no logged frame and are left out)`);
  }
}

/** Every run's delays, each run matched to the emulator's log of its answer by account and prompt. */
function delaysOf(list: readonly Run[], logged: readonly FrameLogEntry[]): FrameDelays {
  const delays: number[] = [];
  let unmatched = 0;
  for (const run of list) {
    const entry = logged.findLast((e) => e.email === run.email && e.prompt.includes(run.prompt));
    if (!entry) {
      throw new Error(`the emulator logged no frames for ${run.email}: "${run.prompt}"`);
    }
    const matched = frameDelays(run.events, entry.frames);
    delays.push(...matched.delays);
    unmatched += matched.unmatched;
  }
  return { delays, unmatched };
}
