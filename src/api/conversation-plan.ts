/**
 * Decides how a request continues: natively in a Gemini chat this worker holds (by
 * conversation_id, or by matching the resent history), or as a new chat that replays the history.
 * A resent history continues from the turn it matches: after [u1, a1, u2] → a2, a regenerate or
 * an edit [u1, a1, u2'] continues from the ids saved after a1 (a branch in Gemini), never after a2.
 */
import { hashMessages } from '../history-key.ts';
import {
  MAX_STORED_TURNS,
  chatAt,
  chatOf,
  type Conversation,
  type ConversationStore,
  type StoredTurn,
  type TurnIds,
} from './conversations.ts';
import { planPrompt, type PromptPlan } from './prompt.ts';
import { messageText, type ChatMessage } from './schemas.ts';
import type { ChatMetadata } from '../gemini/index.ts';
import { NotFoundError } from '../errors.ts';
import { ANONYMOUS, mayAccess, type Caller } from '../http/index.ts';

export interface ConversationPlan {
  conversationId: string;
  /** Set when Gemini holds the chat: only the last turn goes up. */
  chat: ChatMetadata | null;
  prompt: string;
  /** The whole conversation, sent as a new chat if Gemini rejects the follow-up. */
  replayPrompt: string | null;
  /** The turns before this one, as they will be stored. */
  prior: ChatMessage[];
  created: string | null;
  /** The Gemini ids of every turn so far, kept when this turn is saved. */
  turns: Record<string, TurnIds>;
  /** The key id the conversation belongs to. */
  owner: string;
}

const asMessages = (turns: readonly StoredTurn[]): ChatMessage[] =>
  turns.map((t) => ({ role: t.role as ChatMessage['role'], content: t.content }));

async function findConversation(
  id: string | null | undefined,
  plan: PromptPlan,
  store: ConversationStore,
  caller: Caller | null,
): Promise<Conversation | null> {
  if (id) {
    const found = await store.get(id);
    // Someone else's conversation reads as a missing one; it is never continued nor overwritten.
    if (found && !mayAccess(caller, found.owner)) {
      throw new NotFoundError(`No conversation ${id}.`, { param: 'conversation_id' });
    }
    return found;
  }
  return plan.history.length > 0
    ? store.findByHistoryKey(hashMessages(plan.history), caller?.keyId ?? ANONYMOUS)
    : null;
}

/** Resolves the conversation for a request and the prompts to send. */
export async function planConversation(
  requestedId: string | null | undefined,
  plan: PromptPlan,
  store: ConversationStore,
  caller: Caller | null = { keyId: ANONYMOUS, role: 'user' },
): Promise<ConversationPlan> {
  const found = await findConversation(requestedId, plan, store, caller);
  // A seed-style client sends only the new turn: it continues from the latest. A resent history
  // continues from the turn it ends; one that matches no turn of ours is replayed in a new chat.
  const chat = !found
    ? null
    : plan.history.length === 0
      ? chatOf(found)
      : chatAt(found, hashMessages(plan.history));
  const conversationId = found?.conversation_id ?? requestedId ?? store.newId();
  // A seed-style client sends only the new turn and relies on the stored history.
  const prior = plan.history.length === 0 && found ? asMessages(found.messages) : [...plan.history];
  const fullPrompt =
    plan.history.length === 0 && found
      ? planPrompt([...prior, plan.lastUser]).fullPrompt
      : plan.fullPrompt;
  return {
    conversationId,
    chat,
    prompt: chat ? plan.turnPrompt : fullPrompt,
    replayPrompt: chat ? fullPrompt : null,
    prior,
    created: found?.created_at ?? null,
    turns: found?.turns ?? {},
    owner: found?.owner ?? caller?.keyId ?? ANONYMOUS,
  };
}

/** The stored record after a turn, and the key its full history is found by. */
export function conversationAfterTurn(
  cp: ConversationPlan,
  lastUser: ChatMessage,
  answer: string,
  model: string,
  chat: ChatMetadata | null,
): { conversation: Conversation; key: string } {
  const turns: ChatMessage[] = [...cp.prior, lastUser, { role: 'assistant', content: answer }];
  const now = new Date().toISOString();
  const key = hashMessages(turns);
  return {
    key,
    conversation: {
      conversation_id: cp.conversationId,
      created_at: cp.created ?? now,
      updated_at: now,
      model,
      metadata: chat ? [chat.cid, chat.rid, chat.rcid] : null,
      context_token: chat?.contextToken ?? null,
      messages: turns.map((m) => ({ role: m.role, content: messageText(m.content) })),
      turns: turnsAfter(cp.turns, key, chat),
      owner: cp.owner,
    },
  };
}

/** The turn ids with this turn's added (moved last when regenerated), capped oldest first. */
function turnsAfter(
  before: Record<string, TurnIds>,
  key: string,
  chat: ChatMetadata | null,
): Record<string, TurnIds> {
  const entries = Object.entries(before).filter(([k]) => k !== key);
  if (chat) {
    const metadata: TurnIds['metadata'] = [chat.cid, chat.rid, chat.rcid];
    entries.push([key, { metadata, context_token: chat.contextToken ?? null }]);
  }
  return Object.fromEntries(entries.slice(-MAX_STORED_TURNS));
}
