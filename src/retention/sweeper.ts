/**
 * Deletes stored files once they are older than their retention age: generated images, uploads
 * and conversations (by mtime, so a conversation in use stays). One walk per interval also
 * counts what is left, so /health reads counters instead of walking directories.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging.ts';

/** One directory to keep trimmed. */
export interface RetentionTarget {
  readonly name: string;
  readonly dir: string;
  /** Files older than this go; 0 keeps them forever. */
  readonly maxAgeMs: number;
  /** Which files count as items (the rest, such as sidecars, age out but are not counted). */
  readonly isItem?: (relative: string) => boolean;
  /** Receives the number of items left after each sweep. */
  readonly onCount?: (items: number) => void;
}

export interface SweeperOptions {
  readonly targets: readonly RetentionTarget[];
  readonly intervalMs: number;
  readonly logger: Logger;
  /** The clock (tests pass a fake one). */
  readonly now?: () => number;
}

/** What one sweep did, per target name. */
export type SweepReport = Record<string, { deleted: number; kept: number }>;

const isVisible = (relative: string) => !relative.split(path.sep).some((p) => p.startsWith('.'));

async function* walk(dir: string, base = dir): AsyncGenerator<string> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      yield* walk(full, base);
      // An emptied day or month folder goes too (rmdir fails, harmlessly, when it is not
      // empty); the stores' own dot folders stay, as they create them only once.
      if (!e.name.startsWith('.')) {
        await fs.rmdir(full).catch(() => {});
      }
    } else if (e.isFile() || e.isSymbolicLink()) {
      yield path.relative(base, full);
    }
  }
}

/** Runs sweeps now and then every intervalMs; close() stops it. */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepReport> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: SweeperOptions) {
    this.now = options.now ?? Date.now;
  }

  /** One pass over every target; concurrent calls share the pass under way. */
  sweep(): Promise<SweepReport> {
    this.running ??= this.sweepAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepAll(): Promise<SweepReport> {
    const report: SweepReport = {};
    for (const target of this.options.targets) {
      report[target.name] = await this.sweepTarget(target);
      target.onCount?.(report[target.name]!.kept);
    }
    const deleted = Object.values(report).reduce((n, r) => n + r.deleted, 0);
    if (deleted > 0) {
      this.options.logger.info('retention sweep', { report });
    }
    return report;
  }

  private async sweepTarget(t: RetentionTarget): Promise<{ deleted: number; kept: number }> {
    const isItem = t.isItem ?? isVisible;
    const cutoff = this.now() - t.maxAgeMs;
    let deleted = 0;
    let kept = 0;
    for await (const relative of walk(t.dir)) {
      const file = path.join(t.dir, relative);
      // A link ages by its own time (the conversations' key links), never by what it names.
      const st = await fs.lstat(file).catch(() => null);
      if (!st) {
        continue;
      }
      if (t.maxAgeMs > 0 && st.mtimeMs < cutoff) {
        const gone = await fs.unlink(file).then(
          () => true,
          () => false,
        );
        if (gone && isItem(relative)) {
          deleted += 1;
        }
      } else if (isItem(relative)) {
        kept += 1;
      }
    }
    return { deleted, kept };
  }

  /** Sweeps once now, then every intervalMs (the timer never keeps the process alive). */
  start(): void {
    if (this.timer) {
      return;
    }
    const run = () =>
      void this.sweep().catch((err: unknown) => {
        this.options.logger.warn('retention sweep failed', { err });
      });
    run();
    this.timer = setInterval(run, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep under way; idempotent. */
  async close(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running?.catch(() => {});
  }
}
