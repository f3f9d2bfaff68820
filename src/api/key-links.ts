/**
 * The entries of the history-key index (conversations/.history-keys/<key>: the id of the
 * conversation whose history hashes to <key>) are symlinks whose target is that id. A regular
 * file costs three thread-pool jobs after every answer (open, write, close) and four or more to
 * read; a link is one each way, and is never seen half written. Files written before are read.
 * The links are written by the save thread (save-thread.ts), with the conversation.
 */
import fs from 'node:fs/promises';

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
