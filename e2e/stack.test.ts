/**
 * `npm run stack` end to end: the real script as a child process starts PostgreSQL, Redis, the
 * emulator, two Chromiums, two workers and the gateway; the official OpenAI SDK gets answers
 * through the gateway (streaming and not); SIGINT stops it with exit 0 and no process it started
 * is left. Also: --help, bad options, a missing binary, a child dying during start-up, a stack
 * killed with SIGKILL (the next run reaps what it left), Ctrl-C through `npm run stack` (npm and
 * tsx's CLI forward the signal too), and the local services' stop and kill.
 * The cases live in e2e/stack/; this file only cleans up after them.
 */
import { afterAll } from 'vitest';
import { optionCases } from './stack/option-cases.ts';
import { productCases } from './stack/product-cases.ts';
import { cleanUpStacks } from './stack/runs.ts';
import { servicesCases } from './stack/services-cases.ts';

afterAll(cleanUpStacks);

optionCases();
productCases();
servicesCases();
