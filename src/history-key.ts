/**
 * @module history-key
 * The history key: how a conversation sent without an id is recognised. The gateway and the worker
 * both derive it from the messages before the last user message, so the key a request carries is
 * the key the previous answer produced.
 */
import { createHash } from 'node:crypto';

/** The parts of an OpenAI chat message the key depends on. */
export interface KeyedMessage {
  readonly role?: unknown;
  readonly content?: unknown;
}

/** A message's text: a string as is, an array's text parts joined by "\n", anything else ''. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') {
    return content;
  }
  if (!Array.isArray(content)) {
    return '';
  }
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    // Only text parts carry `text` (image_url, file and input_audio parts do not).
    if (isRecord(part) && typeof part['text'] === 'string') {
      texts.push(part['text']);
    }
  }
  return texts.join('\n');
}

/**
 * sha256 hex of the canonical JSON `[{role, content}]` of `messages`: content is messageText,
 * trimmed (front ends differ in trailing whitespace); `developer` counts as `system`.
 */
export function hashMessages(messages: readonly KeyedMessage[]): string {
  const canonical = messages.map((m) => {
    const role = typeof m.role === 'string' ? m.role : '';
    return { role: role === 'developer' ? 'system' : role, content: messageText(m.content).trim() };
  });
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** The messages before the last user message; all of them when there is no user message. */
export function historyBefore<T extends KeyedMessage>(messages: readonly T[]): readonly T[] {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') {
      return messages.slice(0, i);
    }
  }
  return messages;
}

/** The history key of a request: hashMessages of the messages before its last user message. */
export function historyKey(messages: readonly KeyedMessage[]): string {
  return hashMessages(historyBefore(messages));
}

/** The key the next turn will carry once `answer` is appended to `messages` as the assistant's. */
export function historyKeyAfter(messages: readonly KeyedMessage[], answer: string): string {
  return hashMessages([...messages, { role: 'assistant', content: answer }]);
}

/** True when the history holds an earlier answer, i.e. the request continues a conversation. */
export function continuesConversation(messages: readonly KeyedMessage[]): boolean {
  return historyBefore(messages).some((m) => m.role === 'assistant');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
