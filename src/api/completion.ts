/**
 * OpenAI response shapes: chat.completion and chat.completion.chunk. Usage is estimated (about
 * four characters a token): Gemini web reports no token counts.
 */
import { randomUUID } from 'node:crypto';

export interface CompletionIds {
  id: string;
  created: number;
  model: string;
  conversationId: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function newIds(model: string, conversationId: string): CompletionIds {
  return {
    id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    conversationId,
  };
}

export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

export function usageOf(prompt: string, completion: string): Usage {
  const p = estimateTokens(prompt);
  const c = estimateTokens(completion);
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

export interface Delta {
  role?: 'assistant';
  content?: string;
  reasoning_content?: string;
}

function chunkEnvelope(ids: CompletionIds) {
  return {
    id: ids.id,
    object: 'chat.completion.chunk',
    created: ids.created,
    model: ids.model,
    system_fingerprint: null,
    conversation_id: ids.conversationId,
  };
}

export function chunk(ids: CompletionIds, delta: Delta, finishReason: 'stop' | null = null) {
  return {
    ...chunkEnvelope(ids),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** The last chunk of `stream_options.include_usage`: no choices, only usage. */
export function usageChunk(ids: CompletionIds, usage: Usage) {
  return { ...chunkEnvelope(ids), choices: [], usage };
}

/** Why an answer ended: `length` when it was cut off upstream and only a part arrived. */
export type FinishReason = 'stop' | 'length';

export function completion(
  ids: CompletionIds,
  content: string,
  reasoning: string,
  usage: Usage,
  finishReason: FinishReason = 'stop',
) {
  return {
    id: ids.id,
    object: 'chat.completion',
    created: ids.created,
    model: ids.model,
    system_fingerprint: null,
    conversation_id: ids.conversationId,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage,
  };
}
