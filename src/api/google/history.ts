/**
 * The Gemini API's requests and answers in the shape the history key is taken over (OpenAI chat
 * messages, src/history-key.ts), for whoever routes by it without running a turn: the gateway
 * binds a conversation to its worker by `historyKeyAfter(messages, text, toolCalls)` and finds
 * it again by `historyKey(messages)`, exactly the keys the worker stores and looks up.
 */
import type { KeyedMessage } from '../../history-key.ts';
import { storedTurn } from '../conversation-plan.ts';
import { parseGenerateContentRequest } from './request.ts';

/** A call as the history key reads it. */
export interface KeyedToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

/** A generateContent body's messages (system instruction included); [] when it is not valid. */
export function googleKeyedMessages(raw: unknown): KeyedMessage[] {
  try {
    return parseGenerateContentRequest(raw, 'any').turn.messages.map((m) => storedTurn(m));
  } catch {
    return [];
  }
}

/**
 * An answer's text and calls from its GenerateContentResponse objects (one, or every streamed
 * chunk in order): the non-thought text pieces joined, and each functionCall with its id.
 */
export function googleAnswerOf(responses: readonly unknown[]): {
  text: string;
  toolCalls: KeyedToolCall[];
} {
  let text = '';
  const toolCalls: KeyedToolCall[] = [];
  for (const part of responses.flatMap(partsOf)) {
    if (typeof part['text'] === 'string' && part['thought'] !== true) {
      text += part['text'];
    }
    const call = part['functionCall'] as Record<string, unknown> | undefined;
    if (call && typeof call['name'] === 'string') {
      toolCalls.push({
        id: typeof call['id'] === 'string' ? call['id'] : '',
        type: 'function',
        function: { name: call['name'], arguments: JSON.stringify(call['args'] ?? {}) },
      });
    }
  }
  return { text, toolCalls };
}

function partsOf(response: unknown): Record<string, unknown>[] {
  const candidates = (response as { candidates?: unknown } | null)?.candidates;
  const content = Array.isArray(candidates)
    ? (candidates[0] as { content?: { parts?: unknown } } | undefined)?.content
    : undefined;
  const parts = content?.parts;
  return Array.isArray(parts)
    ? parts.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null)
    : [];
}
