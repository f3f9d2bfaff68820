/**
 * Images of user turns kept with the conversations, so that a conversation replayed as a new
 * chat (its Gemini chat gone, or rejected) uploads them again instead of dropping them, without
 * refetching any URL. Each image is kept once, by content (DATA_DIR/conversations/.images/
 * <sha256>.<ext>), and reached only through a conversation its caller may read. Every save of a
 * conversation refreshes the mtime of the images it names, so the retention sweeper, which ages
 * the conversations folder by mtime, keeps them exactly as long as a conversation using them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

const NAME = /^[0-9a-f]{64}\.(png|jpg|gif|webp)$/;
const EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** A staged image file to keep, under its name. */
export interface ImageToKeep {
  readonly name: string;
  readonly path: string;
}

/** The kept images of one worker's conversations. */
export class KeptImages {
  constructor(readonly dir: string) {}

  /** The name an image is kept under (its sha256 and type), or null for a type not kept. */
  static nameOf(data: Buffer, mimeType: string): string | null {
    const ext = EXT[mimeType];
    return ext ? `${createHash('sha256').update(data).digest('hex')}.${ext}` : null;
  }

  /** The file of a kept image; null when the name is not one of ours or the file is gone. */
  async path(name: string): Promise<string | null> {
    if (!NAME.test(name)) {
      return null;
    }
    const file = path.join(this.dir, name);
    return (await fs.stat(file).catch(() => null))?.isFile() ? file : null;
  }

  /**
   * Keeps `files` (a hard link to the staged file, else a copy) and refreshes the mtime of every
   * name in `inUse`. Never throws: a missing image later reads as omitted, never as an error.
   */
  async keep(files: readonly ImageToKeep[], inUse: readonly string[]): Promise<void> {
    const now = new Date();
    // Most turns carry no image: no file system call at all for them.
    if (files.length > 0) {
      await fs.mkdir(this.dir, { recursive: true }).catch(() => undefined);
    }
    for (const f of files) {
      const target = path.join(this.dir, f.name);
      if (!NAME.test(f.name) || (await this.path(f.name)) !== null) {
        continue;
      }
      await fs
        .link(f.path, target)
        .catch(() => fs.copyFile(f.path, target))
        .catch(() => undefined);
    }
    for (const name of new Set(inUse)) {
      if (NAME.test(name)) {
        await fs.utimes(path.join(this.dir, name), now, now).catch(() => undefined);
      }
    }
  }
}
