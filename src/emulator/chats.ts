/**
 * Conversations: a cid with its turns. A follow-up naming a known cid of the same account
 * continues it (the turn number grows); the ids use Gemini's c_/r_/rc_ forms.
 */
import { randomBytes } from 'node:crypto';

/** One exchange in a chat. */
export interface ChatTurn {
  rid: string;
  rcid: string;
  prompt: string;
  answer: string;
  atMs: number;
}

/** A conversation. */
export interface Chat {
  readonly cid: string;
  readonly email: string;
  readonly temporary: boolean;
  title: string;
  turns: ChatTurn[];
  contextToken: string | null;
  updatedAtMs: number;
}

/** The chat store. */
export interface ChatStore {
  /** The chat `cid` if it exists and belongs to `email`. */
  find(cid: string, email: string): Chat | null;
  /** A new, empty chat. It is listed only once it has a turn. */
  create(email: string, title: string, temporary: boolean): Chat;
  /** Records a finished turn and its new context token. */
  addTurn(chat: Chat, turn: ChatTurn, contextToken: string): void;
  /** The account's saved chats, newest first. */
  list(email: string): Chat[];
}

/** `c_<16hex>`-style ids. */
export function newId(prefix: 'c_' | 'r_' | 'rc_'): string {
  return `${prefix}${randomBytes(8).toString('hex')}`;
}

/** An opaque context token (inner[25]). */
export function newContextToken(): string {
  return `AwAAAAAAAAAQ${randomBytes(24).toString('base64url')}`;
}

/** Creates an empty chat store. */
export function createChatStore(now: () => number): ChatStore {
  const chats = new Map<string, Chat>();
  return {
    find(cid, email) {
      const chat = chats.get(cid);
      return chat && chat.email === email ? chat : null;
    },
    create(email, title, temporary) {
      const chat: Chat = {
        cid: newId('c_'),
        email,
        temporary,
        title,
        turns: [],
        contextToken: null,
        updatedAtMs: now(),
      };
      chats.set(chat.cid, chat);
      return chat;
    },
    addTurn(chat, turn, contextToken) {
      chat.turns.push(turn);
      chat.contextToken = contextToken;
      chat.updatedAtMs = now();
    },
    list(email) {
      return [...chats.values()]
        .filter((c) => c.email === email && !c.temporary && c.turns.length > 0)
        .sort((a, b) => b.updatedAtMs - a.updatedAtMs);
    },
  };
}
