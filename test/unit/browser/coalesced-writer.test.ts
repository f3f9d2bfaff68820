import { describe, expect, it } from 'vitest';
import { CoalescedWriter } from '../../../src/browser/coalesced-writer.ts';
import { createLogger } from '../../../src/logging.ts';
import { capturedLogger } from '../support/captured-logger.ts';

/** A write that can be held open, recording what it was given. */
class Sink {
  written: number[] = [];
  running = 0;
  maxRunning = 0;
  fail: Error | null = null;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  release(): void {
    this.open();
    this.gate = Promise.resolve();
  }

  readonly write = async (value: number): Promise<void> => {
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate;
      if (this.fail) {
        throw this.fail;
      }
      this.written.push(value);
    } finally {
      this.running -= 1;
    }
  };
}

const silent = createLogger({ silent: true });

/** A writer into `sink`, silent unless told otherwise. */
function writerInto(
  sink: Sink,
  options: Partial<ConstructorParameters<typeof CoalescedWriter<number>>[0]> = {},
): CoalescedWriter<number> {
  return new CoalescedWriter<number>({
    what: 'test',
    write: sink.write,
    logger: silent,
    ...options,
  });
}

describe('CoalescedWriter', () => {
  it('folds many values into few writes, one at a time, the latest last', async () => {
    const sink = new Sink();
    const w = writerInto(sink);
    sink.hold();
    for (let i = 1; i <= 1000; i += 1) {
      w.schedule(i);
    }
    sink.release();
    await w.flush();
    // The first write started at once with 1; the 999 after it folded into one write of 1000.
    expect(sink.written).toEqual([1, 1000]);
    expect(sink.maxRunning).toBe(1);
    expect(w.busy).toBe(false);
  });

  it('folds with the given function (merging what is pending)', async () => {
    const sink = new Sink();
    const w = writerInto(sink, { fold: (a, b) => a + b });
    sink.hold();
    [1, 2, 3, 4].forEach((v) => w.schedule(v));
    sink.release();
    await w.flush();
    expect(sink.written).toEqual([1, 9]);
  });

  it('writes at most once per interval, and flush() does not wait for it', async () => {
    const sink = new Sink();
    const w = writerInto(sink, { minIntervalMs: 60_000 });
    w.schedule(1);
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 2; i <= 50; i += 1) {
      w.schedule(i);
      await new Promise((r) => setImmediate(r));
    }
    expect(sink.written).toEqual([1]);
    expect(w.busy).toBe(true);
    await w.flush();
    expect(sink.written).toEqual([1, 50]);
  });

  it('writes the pending value after the interval on its own', async () => {
    const sink = new Sink();
    const w = writerInto(sink, { minIntervalMs: 30 });
    w.schedule(1);
    w.schedule(2);
    w.schedule(3);
    await new Promise((r) => setTimeout(r, 120));
    expect(sink.written).toEqual([1, 3]);
    expect(w.busy).toBe(false);
  });

  it('close() writes what is pending, then ignores new values', async () => {
    const sink = new Sink();
    const w = writerInto(sink, { minIntervalMs: 60_000 });
    w.schedule(1);
    w.schedule(2);
    await w.close();
    expect(sink.written).toEqual([1, 2]);
    w.schedule(3);
    await w.close();
    expect(sink.written).toEqual([1, 2]);
  });

  it('logs a failure once per change of state, never throws, and keeps trying newer values', async () => {
    const sink = new Sink();
    const { logger, lines } = capturedLogger({ debug: true });
    const w = writerInto(sink, { what: 'saving test.json', logger });
    sink.fail = new Error('EACCES: permission denied');
    for (let i = 1; i <= 5; i += 1) {
      w.schedule(i);
      await w.flush();
    }
    sink.fail = null;
    w.schedule(6);
    await w.flush();
    sink.fail = new Error('ENOSPC: no space left');
    w.schedule(7);
    await w.flush();
    expect(sink.written).toEqual([6]);
    const levels = lines().map((l) => JSON.parse(l) as { level: string; message: string });
    expect(levels.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'saving test.json: write failed; newer states will be tried',
      'saving test.json: write failed; newer states will be tried',
    ]);
    expect(levels.filter((l) => l.level === 'info')).toHaveLength(1);
  });

  it('survives a callback that throws', async () => {
    const sink = new Sink();
    const w = writerInto(sink, {
      onWritten: () => {
        throw new Error('callback bug');
      },
    });
    w.schedule(1);
    await w.flush();
    w.schedule(2);
    await w.flush();
    expect(sink.written).toEqual([1, 2]);
  });
});
