/** What the save-thread tests share: one save's files, and a thread that crashes on demand. */
import path from 'node:path';
import { SAVE_THREAD_SOURCE, type SaveFiles } from '../../../src/api/save-thread.ts';

/**
 * A save thread whose handler throws on a body of 'crash', before it answers: it dies with an
 * 'error', and its 'exit' comes a few ms later.
 */
export const CRASHING_SOURCE = `const wt = require('node:worker_threads');
const on = wt.parentPort.on.bind(wt.parentPort);
wt.parentPort.on = (event, handle) => on(event, (m) => {
  if (m.files.body === 'crash') throw new Error('boom');
  handle(m);
});
${SAVE_THREAD_SOURCE}`;

/** The files of a save of conversation `id` in `dir`, holding `body`. */
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
