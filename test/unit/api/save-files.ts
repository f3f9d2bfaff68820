/**
 * What the save tests share: a turn, its answer and Gemini ids; one save's files; and a save
 * thread that crashes on demand.
 */
import path from 'node:path';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import { SAVE_THREAD_SOURCE, type SaveFiles } from '../../../src/api/save-thread.ts';

export const turnOf = (content: string) =>
  chatTurnOf(parseChatRequest({ messages: [{ role: 'user', content }] }));
export const chat = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' };
export const answer = (text: string) => ({ text, toolCalls: [] });

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
