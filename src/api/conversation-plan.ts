/**
 * Decides how a turn continues: natively in a Gemini chat this worker holds (by conversation_id,
 * or by matching the resent history), or as a new chat that replays the history.
 * A resent history continues from the turn it matches: after [u1, a1, u2] → a2, a regenerate or
 * an edit [u1, a1, u2'] continues from the ids saved after a1 (a branch in Gemini), never after a2.
 * Tool calls and tool results are part of the history key, so an agent loop continues natively.
 */
import { hashMessages, historyBefore } from '../history-key.ts';
import type { ChatMetadata } from '../gemini/index.ts';
import { renderPrompt, type ChatTurn, type ToolCall, type TurnMessage } from './core/index.ts';
import {
  MAX_STORED_TURNS,
  chatAt,
  chatOf,
  type Conversation,
  type ConversationStore,
  type StoredTurn,
  type TurnIds,
} from './conversations.ts';
import { NotFoundError } from '../errors.ts';
import { ANONYMOUS, mayAccess, type Caller } from '../http/index.ts';

/** How one turn goes up, and what is stored after it. */
export interface ConversationPlan {
  conversationId: string;
  /** Set when Gemini holds the chat: only the current turn goes up. */
  chat: ChatMetadata | null;
  prompt: string;
  /** Images of the current turn (data:, http(s) or /upload references), in order. */
  images: readonly string[];
  /** The whole conversation, sent as a new chat if Gemini rejects the follow-up. */
  replayPrompt: string | null;
  /** The whole conversation of this turn (stored history included), as it will be stored. */
  messages: readonly TurnMessage[];
  created: string | null;
  /** The Gemini ids of every turn so far, kept when this turn is saved. */
  turns: Record<string, TurnIds>;
  /** The key id the conversation belongs to. */
  owner: string;
}

/** The answer a turn ended with, as stored. */
export interface TurnAnswer {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
}

/** A neutral message in the stored (OpenAI chat) shape, which the history key is taken over. */
export function storedTurn(m: TurnMessage): StoredTurn {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.text };
    case 'user':
      return {
        role: 'user',
        content: m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n'),
      };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.text,
        ...(m.toolCalls.length > 0
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', content: m.content, tool_call_id: m.callId };
  }
}

function fromStored(t: StoredTurn): TurnMessage {
  const content = typeof t.content === 'string' ? t.content : '';
  switch (t.role) {
    case 'system':
    case 'developer':
      return { role: 'system', text: content };
    case 'assistant':
      return {
        role: 'assistant',
        text: content,
        toolCalls: (t.tool_calls ?? []).map((c) => ({
          id: c.id,
          name: c.function.name,
          arguments: c.function.arguments,
        })),
      };
    case 'tool':
      return { role: 'tool', callId: t.tool_call_id ?? '', content };
    default:
      return { role: 'user', content: [{ type: 'text', text: content }] };
  }
}

/** The history key of messages (neutral form). */
export function historyKeyOf(messages: readonly TurnMessage[]): string {
  return hashMessages(messages.map(storedTurn));
}

async function findConversation(
  id: string | null | undefined,
  history: readonly TurnMessage[],
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
  return history.length > 0
    ? store.findByHistoryKey(historyKeyOf(history), caller?.keyId ?? ANONYMOUS)
    : null;
}

/**
 * Resolves the conversation for a turn and renders the prompts to send. `onlyNewTurn`: the
 * messages are only what follows the stored conversation (the Responses API's
 * previous_response_id), never a history to match.
 */
export async function planConversation(
  requestedId: string | null | undefined,
  turn: ChatTurn,
  store: ConversationStore,
  onlyNewTurn = false,
  caller: Caller | null = { keyId: ANONYMOUS, role: 'user' },
): Promise<ConversationPlan> {
  const history = onlyNewTurn ? [] : historyBefore(turn.messages);
  const found = await findConversation(requestedId, history, store, caller);
  // A seed-style client sends only the new turn: it continues from the latest. A resent history
  // continues from the turn it ends; one that matches no turn of ours is replayed in a new chat.
  const chat = !found
    ? null
    : history.length === 0
      ? chatOf(found)
      : chatAt(found, historyKeyOf(history));
  const conversationId = found?.conversation_id ?? requestedId ?? store.newId();
  const messages =
    history.length === 0 && found
      ? [...found.messages.map(fromStored), ...turn.messages]
      : turn.messages;
  const full = { ...turn, messages };
  const replay = renderPrompt(full, { continued: false });
  const current = renderPrompt(full, { continued: true });
  return {
    conversationId,
    chat,
    prompt: chat ? current.text : replay.text,
    images: current.images,
    replayPrompt: chat ? replay.text : null,
    messages,
    created: found?.created_at ?? null,
    turns: found?.turns ?? {},
    owner: found?.owner ?? caller?.keyId ?? ANONYMOUS,
  };
}

/** The stored record after a turn, and the key its full history is found by. */
export function conversationAfterTurn(
  cp: ConversationPlan,
  answer: TurnAnswer,
  model: string,
  chat: ChatMetadata | null,
): { conversation: Conversation; key: string } {
  const turns = [
    ...cp.messages,
    { role: 'assistant' as const, text: answer.text, toolCalls: answer.toolCalls },
  ].map(storedTurn);
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
      messages: turns,
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
