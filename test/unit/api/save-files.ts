/** The files of one save-thread test save: conversation `id` in `dir`, holding `body`. */
import path from 'node:path';
import type { SaveFiles } from '../../../src/api/save-thread.ts';

export const filesIn = (dir: string, id: string, body: string): SaveFiles => ({
  file: path.join(dir, `${id}.json`),
  tmp: path.join(dir, `${id}.json.${body}.tmp`),
  body,
  keyDir: path.join(dir, '.history-keys'),
  keyFile: path.join(dir, '.history-keys', 'k'),
  keyTmp: path.join(dir, '.history-keys', `k.${body}.tmp`),
  id,
  checkExisted: true,
});
