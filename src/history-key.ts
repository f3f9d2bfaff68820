/**
 * @module history-key
 * The history key: how a conversation sent without an id is recognised. The gateway and the worker
 * both derive it from the messages before the last user message, so the key a request carries is
 * the key the previous answer produced.
 */
import { createHash, type Hash } from 'node:crypto';
import { parseJsonWithin } from './http/index.ts';

/** The parts of an OpenAI chat message the key depends on. */
export interface KeyedMessage {
  readonly role?: unknown;
  readonly content?: unknown;
  /** An assistant message's calls, in OpenAI's shape ({id, function: {name, arguments}}). */
  readonly tool_calls?: unknown;
  /** A tool message's answer to a call. */
  readonly tool_call_id?: unknown;
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
 * trimmed (front ends differ in trailing whitespace); `developer` counts as `system`. Tool calls
 * (id, name, arguments re-serialized) and a tool message's call id join only when present, so
 * the key of a plain chat is what it always was.
 */
export function hashMessages(messages: readonly KeyedMessage[]): string {
  return createHash('sha256')
    .update(`[${messages.map(canonicalMessage).join(',')}]`)
    .digest('hex');
}

/** One message as hashMessages writes it (an element of its canonical JSON array). */
function canonicalMessage(m: KeyedMessage): string {
  const role = typeof m.role === 'string' ? m.role : '';
  const calls = canonicalCalls(m.tool_calls);
  return JSON.stringify({
    role: role === 'developer' ? 'system' : role,
    content: messageText(m.content).trim(),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    ...(typeof m.tool_call_id === 'string' ? { tool_call_id: m.tool_call_id } : {}),
  });
}

/** The keys of one history, each message canonicalized and hashed once for all of them. */
export interface HistoryKeys {
  /** historyKey(messages). */
  readonly key: () => string;
  /** historyKeyAfter(messages, answer, toolCalls). */
  readonly keyAfter: (answer: string, toolCalls?: readonly unknown[]) => string;
}

/**
 * The history key of `messages` and the key after an answer, over one running sha256: the
 * messages before the current turn are hashed once, and the key after an answer continues from
 * there instead of hashing the whole history again (for a long agent history, half the work).
 * Each message is hashed only when a key first needs it.
 */
export function historyKeys(messages: readonly KeyedMessage[]): HistoryKeys {
  const prefix = historyBefore(messages).length;
  const running = createHash('sha256').update('[');
  let hashed = 0;
  /** The hash of the messages before the current turn, kept once later messages are added. */
  let atPrefix: Hash | null = null;
  const through = (count: number): Hash => {
    for (; hashed < count; hashed++) {
      if (hashed === prefix) {
        atPrefix = running.copy();
      }
      running.update(`${hashed > 0 ? ',' : ''}${canonicalMessage(messages[hashed]!)}`);
    }
    return running;
  };
  return {
    key: () => {
      through(prefix);
      return (atPrefix ?? running).copy().update(']').digest('hex');
    },
    keyAfter: (answer, toolCalls = []) => {
      const calls = toolCalls.length > 0 ? { tool_calls: toolCalls } : {};
      const entry = canonicalMessage({ role: 'assistant', content: answer, ...calls });
      return through(messages.length)
        .copy()
        .update(`${messages.length > 0 ? ',' : ''}${entry}]`)
        .digest('hex');
    },
  };
}

/**
 * The messages before the current turn: before the last user message, or, when tool results
 * follow the last answer (an agent loop), up to and including that answer, even when a user
 * message follows the results (Anthropic clients send text beside their tool_result blocks).
 * All of them when there is neither.
 */
export function historyBefore<T extends KeyedMessage>(messages: readonly T[]): readonly T[] {
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  const lastAnswer = messages.findLastIndex((m) => m.role === 'assistant');
  if (lastAnswer >= 0 && messages.slice(lastAnswer + 1).some((m) => m.role === 'tool')) {
    return messages.slice(0, lastAnswer + 1);
  }
  return lastUser >= 0 ? messages.slice(0, lastUser) : messages;
}

/** [id, name, arguments] of each call; arguments that are JSON are re-serialized compactly. */
function canonicalCalls(calls: unknown): [string, string, string][] {
  if (!Array.isArray(calls)) {
    return [];
  }
  return calls.filter(isRecord).map((call) => {
    const fn = isRecord(call['function']) ? call['function'] : {};
    const args = typeof fn['arguments'] === 'string' ? fn['arguments'] : '';
    let normalized = args;
    try {
      // Bounded, as JSON.stringify recurses; a key never refuses, the worker reports the depth.
      normalized = JSON.stringify(parseJsonWithin(args, 'arguments'));
    } catch {
      // Not JSON, or nested too deep: the text as it is.
    }
    const id = typeof call['id'] === 'string' ? call['id'] : '';
    return [id, typeof fn['name'] === 'string' ? fn['name'] : '', normalized];
  });
}

/** The history key of a request: hashMessages of the messages before its last user message. */
export function historyKey(messages: readonly KeyedMessage[]): string {
  return hashMessages(historyBefore(messages));
}

/** The key the next turn will carry once `answer` (and its calls) is appended as the assistant's. */
export function historyKeyAfter(
  messages: readonly KeyedMessage[],
  answer: string,
  toolCalls: readonly unknown[] = [],
): string {
  const calls = toolCalls.length > 0 ? { tool_calls: toolCalls } : {};
  return hashMessages([...messages, { role: 'assistant', content: answer, ...calls }]);
}

/** True when the history holds an earlier answer, i.e. the request continues a conversation. */
export function continuesConversation(messages: readonly KeyedMessage[]): boolean {
  return historyBefore(messages).some((m) => m.role === 'assistant');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
