/**
 * Bad input gets a clear 4xx in OpenAI's shape, reaches nothing upstream, and never crashes the
 * worker; the API key guards the API and secrets stay out of logs and answers. History fidelity:
 * a replay re-uploads earlier turns' images, and a prompt too long to send inline goes up as
 * message.txt, proven from the emulator's records of what was pushed and sent.
 * The cases live in e2e/worker-input/; this file only starts the emulator and the worker.
 */
import { afterAll, beforeAll } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';
import { guardCases } from './worker-input/guard-cases.ts';
import { historyCases } from './worker-input/history-cases.ts';
import { KEY, type InputTarget } from './worker-input/input.ts';

let emulator: Emulator;
let worker: TestWorker;
let email: string;

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
  email = uniqueEmail('input');
  worker = await startTestWorker({
    emulator,
    email,
    env: {
      API_KEYS: `${KEY},another-key-987654`,
      MAX_BODY_BYTES: '65536',
      MAX_UPLOAD_BYTES: '4096',
      PROMPT_INLINE_MAX_CHARS: '2000',
    },
  });
});
afterAll(async () => {
  await worker?.close();
  await emulator?.close();
});

const target = (): InputTarget => ({ emulator, worker, email });
guardCases(target);
historyCases(target);
