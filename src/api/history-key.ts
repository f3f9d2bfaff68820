/**
 * The history key: one hash of a message list, so a client that resends the whole history
 * without a conversation_id can be matched to the Gemini chat that already holds it. The gateway
 * computes the same key to keep such a conversation on its account.
 */
import { createHash } from 'node:crypto';

interface KeyedMessage {
  role: string;
  content?: string | readonly unknown[] | null | undefined;
}

function textOf(content: KeyedMessage['content']): string {
  if (content == null) {
    return '';
  }
  if (typeof content === 'string') {
    return content;
  }
  return content
    .map((p) => (p as { text?: unknown } | null)?.text)
    .filter((t): t is string => typeof t === 'string')
    .join('\n');
}

/** sha256 hex of the canonical `[{role, content}]` JSON; system and developer count as one role. */
export function historyKey(messages: readonly KeyedMessage[]): string {
  const canonical = messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: textOf(m.content).trim(),
  }));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
