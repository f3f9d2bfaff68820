/**
 * The entries of the history-key index (conversations/.history-keys/<key>: the id of the
 * conversation whose history hashes to <key>) are symlinks whose target is that id. A regular
 * file costs three thread-pool jobs after every answer (open, write, close) and four or more to
 * read; a link is one each way, and is never seen half written. Files written before are read.
 * The links are written by the save thread (save-thread.ts), with the conversation.
 */
import fs from 'node:fs/promises';

/** The index's folder, inside the conversations folder. */
export const KEY_DIR = '.history-keys';

/** The history-key file of an owner: owners never find (or overwrite) each other's index. */
export const historyKeyFile = (key: string, owner: string | undefined): string =>
  owner && owner !== 'anonymous' ? `${owner}-${key}` : key;

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
