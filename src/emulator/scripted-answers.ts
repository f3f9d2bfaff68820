/**
 * Scripted answers: verbatim answer texts queued through the control API, for tests that need
 * an exact shape (a capture of what Gemini web really sent). Each generate request of the
 * account (or of any account, for a queue without one) takes the next text instead of its
 * planned answer.
 */
import { normalizeEmail } from './accounts.ts';

/** Queues of answer texts per account; the '*' queue serves any account. */
export interface ScriptStore {
  push(texts: readonly string[], email?: string): void;
  /** The next scripted text for this account, if any (its own queue first). */
  take(email: string): string | null;
  clear(): void;
}

const ANY = '*';

/** Creates an empty script store. */
export function createScriptStore(): ScriptStore {
  const queues = new Map<string, string[]>();
  return {
    push(texts, email) {
      const key = email === undefined ? ANY : normalizeEmail(email);
      queues.set(key, [...(queues.get(key) ?? []), ...texts]);
    },
    take(email) {
      for (const key of [normalizeEmail(email), ANY]) {
        const next = queues.get(key)?.shift();
        if (next !== undefined) {
          return next;
        }
      }
      return null;
    },
    clear() {
      queues.clear();
    },
  };
}
