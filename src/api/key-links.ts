/**
 * The entries of the history-key index (conversations/.history-keys/<key>: the id of the
 * conversation whose history hashes to <key>) are symlinks whose target is that id. A regular
 * file costs three thread-pool jobs after every answer (open, write, close) and four or more to
 * read; a link is one each way, and is never seen half written. Files written before are read.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';

/** Points `file` at `id`, replacing an earlier entry of the same key at once. */
export async function writeKeyLink(file: string, id: string): Promise<void> {
  try {
    await fs.symlink(id, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw err;
    }
    // The same history answered again (a regenerate that came out the same): link, then rename.
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await fs.symlink(id, tmp);
    await fs.rename(tmp, file).catch(async (renameErr: unknown) => {
      await fs.unlink(tmp).catch(() => undefined);
      throw renameErr;
    });
  }
}

/** The id `file` names: a link's target, or the content of a file from before links. */
export async function readKeyLink(file: string): Promise<string> {
  try {
    return await fs.readlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') {
      throw err;
    }
    return (await fs.readFile(file, 'utf8')).trim();
  }
}
