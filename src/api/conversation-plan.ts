/**
 * Decides how a request continues: natively in a Gemini chat this worker holds (by
 * conversation_id, or by matching the resent history), or as a new chat that replays the history.
 */
import { hashMessages } from '../history-key.ts';
import {
  chatOf,
  type Conversation,
  type ConversationStore,
  type StoredTurn,
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
  const chat = found ? chatOf(found) : null;
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
  return {
    key: hashMessages(turns),
    conversation: {
      conversation_id: cp.conversationId,
      created_at: cp.created ?? now,
      updated_at: now,
      model,
      metadata: chat ? [chat.cid, chat.rid, chat.rcid] : null,
      context_token: chat?.contextToken ?? null,
      messages: turns.map((m) => ({ role: m.role, content: messageText(m.content) })),
      owner: cp.owner,
    },
  };
}
