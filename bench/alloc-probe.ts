/**
 * Loaded into a bench child with `--import` (`npm run bench -- --alloc`). Between two SIGUSR2s it
 * counts the bytes the process allocates (heap deltas around every GC, from v8.GCProfiler) and
 * samples where they were allocated (the sampling heap profiler, keeping the objects a GC already
 * collected: short-lived garbage is exactly what we are after), then writes both next to
 * BENCH_ALLOC_OUT. Nothing runs until the first signal, so the child's latency is untouched.
 */
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import v8 from 'node:v8';

/** What the window measured, written as `<BENCH_ALLOC_OUT>.json`. */
export interface AllocWindow {
  readonly allocatedBytes: number;
  readonly scavenges: number;
  readonly markSweeps: number;
  readonly gcPauseMs: number;
  /** Each young-generation collection's pause, in order. */
  readonly scavengePausesMs: readonly number[];
  /** Old-space growth over those collections: what they promoted. */
  readonly promotedBytes: number;
}

interface GcEntry {
  readonly gcType: string;
  readonly cost: number;
  readonly beforeGC: GcHeap;
  readonly afterGC: GcHeap;
}

interface GcHeap {
  readonly heapStatistics: { readonly usedHeapSize: number };
  readonly heapSpaceStatistics: readonly { spaceName: string; spaceUsedSize: number }[];
}

const oldSpaceUsed = (heap: GcHeap): number =>
  heap.heapSpaceStatistics.find((s) => s.spaceName === 'old_space')?.spaceUsedSize ?? 0;

const out = process.env['BENCH_ALLOC_OUT'];
let running: { gc: v8.GCProfiler; session: inspector.Session; usedAtStart: number } | null = null;

async function start(): Promise<void> {
  const session = new inspector.Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const gc = new v8.GCProfiler();
  gc.start();
  running = { gc, session, usedAtStart: v8.getHeapStatistics().used_heap_size };
}

async function stop(file: string): Promise<void> {
  const { gc, session, usedAtStart } = running!;
  running = null;
  const usedAtEnd = v8.getHeapStatistics().used_heap_size;
  const entries = (gc.stop()?.statistics ?? []) as unknown as GcEntry[];
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  // Allocated = the growth between each GC's start and the previous GC's end, plus the tail.
  let allocated = 0;
  let after = usedAtStart;
  for (const e of entries) {
    allocated += e.beforeGC.heapStatistics.usedHeapSize - after;
    after = e.afterGC.heapStatistics.usedHeapSize;
  }
  allocated += usedAtEnd - after;
  const young = entries.filter((e) => e.gcType === 'Scavenge' || e.gcType === 'MinorMarkSweep');
  const window: AllocWindow = {
    allocatedBytes: allocated,
    scavenges: young.length,
    markSweeps: entries.filter((e) => e.gcType === 'MarkSweepCompact').length,
    gcPauseMs: entries.reduce((sum, e) => sum + e.cost, 0) / 1000,
    scavengePausesMs: young.map((e) => e.cost / 1000),
    promotedBytes: young.reduce(
      (sum, e) => sum + oldSpaceUsed(e.afterGC) - oldSpaceUsed(e.beforeGC),
      0,
    ),
  };
  fs.writeFileSync(`${file}.heapprofile`, JSON.stringify(profile));
  fs.writeFileSync(`${file}.json`, JSON.stringify(window));
}

if (out) {
  process.on('SIGUSR2', () => {
    void (running ? stop(out) : start()).catch((e: unknown) => {
      process.stderr.write(`alloc-probe: ${String(e)}\n`);
    });
  });
}
