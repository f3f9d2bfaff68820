/**
 * The agent-grade OpenAI surface of a worker, driven by the official openai SDK (v6) against the
 * emulator over HTTPS: tool calls (whole and streamed, text around them, two at once, undeclared
 * ones dropped, a broken call repaired by one re-ask, tool_choice enforced), the SDK's runTools
 * loop, json_schema output parsed with zod, stop, max_tokens, n, unknown fields, the legacy
 * /v1/completions, /v1/embeddings, and /v1/responses (whole, streamed, previous_response_id).
 * The emulator's records prove how many prompts went upstream and in which chat.
 * The cases live in e2e/worker-tools/; this file only starts the emulator and the worker.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';
import { endpointCases } from './worker-tools/endpoint-cases.ts';
import { schemaCases } from './worker-tools/schema-cases.ts';
import { structuredCases } from './worker-tools/structured-cases.ts';
import { toolCallCases } from './worker-tools/tool-call-cases.ts';
import type { ToolsTarget } from './worker-tools/tools.ts';

let emulator: Emulator;
let worker: TestWorker;
let email: string;
let client: OpenAI;

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 2 });
  email = uniqueEmail('tools');
  worker = await startTestWorker({ emulator, email });
  client = worker.openai();
});

afterAll(async () => {
  await worker?.close();
  await emulator?.close();
});

beforeEach(() => {
  emulator.clearRecords();
  emulator.clearScriptedAnswers();
});

const target = (): ToolsTarget => ({ emulator, worker, email, client });
toolCallCases(target);
structuredCases(target);
endpointCases(target);
schemaCases(target);
