/**
 * Who owns each stored file (upload or generated image): a small sidecar file under
 * `<dir>/.owners/<relative path>` holding the owner's key id. Sidecars are written with their
 * file and age out with it; a file without one belongs to nobody a user key can name.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** The hidden folder the sidecars live in (never served: dot-paths are refused). */
export const OWNERS_DIR = '.owners';

export class OwnerIndex {
  private readonly root: string;

  constructor(dir: string) {
    this.root = path.join(path.resolve(dir), OWNERS_DIR);
  }

  private file(relative: string): string | null {
    const file = path.resolve(this.root, relative);
    return file.startsWith(this.root + path.sep) ? file : null;
  }

  /** Records `owner` (a key id) for the file at `relative`. */
  async set(relative: string, owner: string): Promise<void> {
    const file = this.file(relative);
    if (!file) {
      throw new Error(`not inside the store: ${relative}`);
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, owner);
  }

  /** The owner of the file at `relative`, or null when none was recorded. */
  async get(relative: string): Promise<string | null> {
    const file = this.file(relative);
    if (!file) {
      return null;
    }
    return fs.readFile(file, 'utf8').then(
      (s) => s.trim() || null,
      () => null,
    );
  }
}
