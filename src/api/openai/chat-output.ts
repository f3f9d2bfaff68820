/**
 * OpenAI response shapes: chat.completion and chat.completion.chunk, with tool calls as OpenAI
 * sends them. Usage is estimated by the core's token counter: Gemini web reports no counts.
 */
import { randomUUID } from 'node:crypto';
import { estimateTokens, type FinishReason, type ToolCall } from '../core/index.ts';

/** What every object of one answer shares. */
export interface CompletionIds {
  id: string;
  created: number;
  model: string;
  conversationId: string;
}

/** OpenAI's usage object. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** OpenAI's finish reasons, as far as this service ends answers. */
export type ChatFinishReason = 'stop' | 'length' | 'tool_calls';

/** Fresh ids for one answer. */
export function newIds(model: string, conversationId: string): CompletionIds {
  return {
    id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    conversationId,
  };
}

/** Usage from the prompt sent and the tokens of the answer. */
export function usageOf(prompt: string, completionTokens: number): Usage {
  const p = estimateTokens(prompt);
  return {
    prompt_tokens: p,
    completion_tokens: completionTokens,
    total_tokens: p + completionTokens,
  };
}

/** The neutral finish reason in OpenAI's words. */
export function chatFinishReason(reason: FinishReason): ChatFinishReason {
  return reason === 'stop_sequence' ? 'stop' : reason;
}

/** A streamed tool-call delta: the first of a call names it, later ones carry argument text. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

/** One chunk's delta. */
export interface Delta {
  role?: 'assistant';
  content?: string;
  reasoning_content?: string;
  tool_calls?: ToolCallDelta[];
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

/** A chat.completion.chunk. */
export function chunk(
  ids: CompletionIds,
  delta: Delta,
  finishReason: ChatFinishReason | null = null,
) {
  return {
    ...chunkEnvelope(ids),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** The last chunk of `stream_options.include_usage`: no choices, only usage. */
export function usageChunk(ids: CompletionIds, usage: Usage) {
  return { ...chunkEnvelope(ids), choices: [], usage };
}

/** The whole answer. Content is null when the answer is only calls, as OpenAI sends it. */
export function completion(
  ids: CompletionIds,
  answer: { text: string; reasoning: string; calls: readonly ToolCall[] },
  usage: Usage,
  finishReason: ChatFinishReason,
) {
  const onlyCalls = answer.calls.length > 0 && answer.text === '';
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
          content: onlyCalls ? null : answer.text,
          ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
          ...(answer.calls.length > 0
            ? {
                tool_calls: answer.calls.map((c) => ({
                  id: c.id,
                  type: 'function',
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage,
  };
}
