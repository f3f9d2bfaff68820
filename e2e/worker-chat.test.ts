/**
 * The worker's main path against the emulator over HTTPS, driven by the official openai SDK:
 * chat with and without streaming, usage, images in and out, conversations both ways, and faults
 * on the way. All of it twice: with the node transport, and with GEMINI_TRANSPORT=page through a
 * signed-in Chromium. Then the newer request and reply forms (GEMINI_REQUEST_FORM=102).
 * The cases live in e2e/worker-chat/; this file only starts each suite's emulator and worker.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';
import type { ChatTarget } from './worker-chat/chat.ts';
import { completionCases } from './worker-chat/completion-cases.ts';
import { conversationCases } from './worker-chat/conversation-cases.ts';
import { faultCases } from './worker-chat/fault-cases.ts';
import { newerFormCases } from './worker-chat/newer-form-cases.ts';

/** Starts an emulator and one worker on it for the enclosing describe; closes both after it. */
function chatStack(
  tag: string,
  options: { transport?: 'node' | 'page'; env?: Record<string, string> },
) {
  let emulator: Emulator;
  let worker: TestWorker;
  let email = '';

  beforeAll(async () => {
    emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
    email = uniqueEmail(tag);
    worker = await startTestWorker({ emulator, email, ...options });
  });

  afterAll(async () => {
    await worker?.close();
    await emulator?.close();
  });

  return (): ChatTarget => ({ emulator, worker, email });
}

describe.each(['node', 'page'] as const)('%s transport', (transport) => {
  const t = chatStack(`chat-${transport}`, { transport });
  completionCases(t, transport);
  conversationCases(t, transport);
  // Last: the blocked-IP cases cool the account down (under page the /app case leaves the tab on
  // /sorry until its next keep-alive reload).
  faultCases(t);
});

describe('the newer request and reply forms (GEMINI_REQUEST_FORM=102)', () => {
  newerFormCases(chatStack('chat-newer', { env: { GEMINI_REQUEST_FORM: '102' } }));
});
