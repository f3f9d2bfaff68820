/**
 * Generated images on disk, laid out as the seed did: DATA_DIR/images/YYYYMM/YYYYMMDD/<ts>_<hex8>.<ext>,
 * served at GET /images/<that path>.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { OwnerIndex } from './owner-index.ts';

const EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

const pad = (n: number) => String(n).padStart(2, '0');

/** Stores images and resolves request paths without ever leaving its directory. */
export class ImageStore {
  readonly dir: string;
  private readonly owners: OwnerIndex;
  private total = 0;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.owners = new OwnerIndex(this.dir);
  }

  /**
   * Saves the bytes for `owner` (a key id); returns the path relative to the store, with forward
   * slashes. The name carries 64 random bits, so it cannot be guessed.
   */
  async save(
    data: Buffer,
    contentType: string,
    now = new Date(),
    owner = 'anonymous',
  ): Promise<string> {
    const month = `${now.getFullYear()}${pad(now.getMonth() + 1)}`;
    const day = `${month}${pad(now.getDate())}`;
    const name = `${now.getTime()}_${randomBytes(8).toString('hex')}.${EXT[contentType] ?? 'png'}`;
    await fs.mkdir(path.join(this.dir, month, day), { recursive: true });
    const relative = `${month}/${day}/${name}`;
    // Owner first: a file is never served before its owner is known.
    await this.owners.set(relative, owner);
    await fs.writeFile(path.join(this.dir, month, day, name), data);
    this.total += 1;
    return relative;
  }

  /** The key id that made the image at `relative`, or null when unknown. */
  ownerOf(relative: string): Promise<string | null> {
    return this.owners.get(relative);
  }

  /** The absolute file for a request path, or null when it escapes the store or is absent. */
  async resolve(relative: string): Promise<string | null> {
    // Dot segments hold the owner sidecars (and `..`); none is ever served.
    if (relative.includes('\0') || relative.split(/[\\/]/).some((part) => part.startsWith('.'))) {
      return null;
    }
    const file = path.resolve(this.dir, relative);
    if (!file.startsWith(this.dir + path.sep)) {
      return null;
    }
    try {
      const real = await fs.realpath(file);
      const st = await fs.stat(real);
      return real.startsWith(this.dir + path.sep) && st.isFile() ? real : null;
    } catch {
      return null;
    }
  }

  /** How many images are stored: counted by the retention sweeper, kept up by saves. */
  count(): number {
    return this.total;
  }

  /** Sets the count after a directory walk (the retention sweeper's). */
  setCount(total: number): void {
    this.total = total;
  }
}
