/**
 * Generated images on disk, laid out as the seed did: DATA_DIR/images/YYYYMM/YYYYMMDD/<ts>_<hex8>.<ext>,
 * served at GET /images/<that path>.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

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

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Saves the bytes; returns the path relative to the store, with forward slashes. */
  async save(data: Buffer, contentType: string, now = new Date()): Promise<string> {
    const month = `${now.getFullYear()}${pad(now.getMonth() + 1)}`;
    const day = `${month}${pad(now.getDate())}`;
    const name = `${now.getTime()}_${randomBytes(4).toString('hex')}.${EXT[contentType] ?? 'png'}`;
    await fs.mkdir(path.join(this.dir, month, day), { recursive: true });
    await fs.writeFile(path.join(this.dir, month, day, name), data);
    return `${month}/${day}/${name}`;
  }

  /** The absolute file for a request path, or null when it escapes the store or is absent. */
  async resolve(relative: string): Promise<string | null> {
    if (relative.includes('\0')) {
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

  async count(): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.isDirectory()) {
          await walk(path.join(dir, e.name));
        } else {
          total += 1;
        }
      }
    };
    await walk(this.dir);
    return total;
  }
}
