/**
 * Every failure class of DESIGN.md's table, end to end: the emulator injects the upstream fault,
 * the official SDK sees the status, shape, Retry-After and error class, and the emulator's record
 * shows what went upstream: a prompt goes up once, twice only after a proven rejection, never
 * three times; uploads stay in the account's line.
 * The cases live in e2e/worker-failures/; this file only starts the emulator and closes the
 * workers each case started.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import type { TestWorker } from './support/worker.ts';
import { accountCases } from './worker-failures/account-cases.ts';
import { faultSuite } from './worker-failures/faults.ts';
import { limitCases } from './worker-failures/limit-cases.ts';
import { transientCases } from './worker-failures/transient-cases.ts';

let emulator: Emulator;
const workers: TestWorker[] = [];

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await emulator?.close();
});

const suite = faultSuite(() => emulator, workers);
accountCases(suite);
transientCases(suite);
limitCases(suite);
