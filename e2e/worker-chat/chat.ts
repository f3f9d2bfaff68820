/**
 * What the cases of e2e/worker-chat.test.ts share: the worker they talk to, the emulator behind
 * it (whose records show what went upstream), and a one-pixel PNG to send.
 */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Emulator } from '../../src/emulator/index.ts';
import type { TestWorker } from '../support/worker.ts';

/** How the worker reaches Gemini: its own HTTP client, or fetch inside a signed-in Chromium. */
export type Transport = 'node' | 'page';

/** A suite's worker, its account and the emulator behind it. */
export interface ChatTarget {
  readonly emulator: Emulator;
  readonly worker: TestWorker;
  readonly email: string;
}

/** A 1x1 PNG, base64. */
export const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** The StreamGenerate calls the emulator saw, those whose prompt contains `prompt` if given. */
export const generationsOf = (emulator: Emulator, prompt?: string) =>
  emulator
    .records()
    .filter((r) => r.kind === 'generate' && (prompt === undefined || r.prompt?.includes(prompt)));

/** A streamed answer's content and reasoning_content, each joined over its chunks. */
export async function deltasOf(
  stream: AsyncIterable<ChatCompletionChunk>,
): Promise<{ reasoning: string; content: string }> {
  let reasoning = '';
  let content = '';
  for await (const c of stream) {
    const delta = c.choices[0]?.delta as
      { content?: string; reasoning_content?: string } | undefined;
    reasoning += delta?.reasoning_content ?? '';
    content += delta?.content ?? '';
  }
  return { reasoning, content };
}
