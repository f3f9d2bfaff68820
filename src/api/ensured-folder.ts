/**
 * A folder made once per process, not before every write: each `mkdir` is one more thread-pool
 * job beside the next request. If the folder was removed since (by hand, or a sweep), the write
 * that finds it gone makes it again and retries once.
 */
import fs from 'node:fs/promises';

/** A folder that writes into it can rely on. */
export class EnsuredFolder {
  private made: Promise<unknown> | null = null;

  constructor(readonly dir: string) {}

  /** Runs `write` (which creates a file in the folder) once the folder exists. */
  async write<T>(write: () => Promise<T>): Promise<T> {
    await (this.made ??= this.make());
    try {
      return await write();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
      await (this.made = this.make());
      return write();
    }
  }

  /** A failed mkdir is not remembered: the next write tries again. */
  private make(): Promise<unknown> {
    return fs.mkdir(this.dir, { recursive: true }).catch((err: unknown) => {
      this.made = null;
      throw err;
    });
  }
}
