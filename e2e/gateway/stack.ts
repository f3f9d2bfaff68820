/**
 * What the cases in front of e2e/gateway.test.ts's real workers share: the model they ask, one
 * chat completion through the gateway, and what the emulator received for a prompt.
 */
import type OpenAI from 'openai';
import type { UpstreamRecord } from '../../src/emulator/index.ts';
import type { GatewayStack } from '../support/gateway-stack.ts';

/** A model every tier has (free: fbb127bbb056c959, Pro and Plus: 56fdd199312815e2). */
export const MODEL = 'gemini-3-flash';

/** The emulator's StreamGenerate records of one prompt, in order. */
export function sendsOf(stack: GatewayStack, prompt: string): UpstreamRecord[] {
  return stack.emulator.records().filter((r) => r.kind === 'generate' && r.prompt === prompt);
}

/** One chat completion through the gateway: its text and the conversation id it was given. */
export async function ask(
  stack: GatewayStack,
  messages: OpenAI.ChatCompletionMessageParam[],
): Promise<{ text: string; id: string | undefined }> {
  const res = await stack.openai().chat.completions.create({ model: MODEL, messages });
  const id = (res as { conversation_id?: string }).conversation_id;
  return { text: res.choices[0]?.message.content ?? '', id };
}
