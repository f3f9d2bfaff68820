/**
 * Decides how a turn continues: natively in a Gemini chat this worker holds (by conversation_id,
 * or by matching the resent history), or as a new chat that replays the history.
 * A resent history continues from the turn it matches: after [u1, a1, u2] → a2, a regenerate or
 * an edit [u1, a1, u2'] continues from the ids saved after a1 (a branch in Gemini), never after a2.
 * Tool calls and tool results are part of the history key, so an agent loop continues natively.
 */
import { hashMessages, historyBefore } from '../history-key.ts';
import type { ChatMetadata } from '../gemini/index.ts';
import {
  joinPromptParts,
  renderPromptParts,
  type ChatTurn,
  type PromptParts,
  type ToolCall,
  type TurnMessage,
} from './core/index.ts';
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
import {
  KEPT_PREFIX,
  fromStored,
  storedTurn,
  withCarriedImages,
  withKeptImages,
} from './stored-turn.ts';

export { storedTurn };
import { ANONYMOUS, mayAccess, type Caller } from '../http/index.ts';

/**
 * An image a prompt carries: a client's reference (data:, http(s) or /upload), or the name of an
 * image of an earlier turn kept with the conversation (kept-images.ts).
 */
export type ImageRef = string | { readonly kept: string };

/** How one turn goes up, and what is stored after it. */
export interface ConversationPlan {
  conversationId: string;
  /** Set when Gemini holds the chat: only the current turn goes up. */
  chat: ChatMetadata | null;
  prompt: string;
  /** `prompt` in its sections (a prompt too long to send inline goes as a file). */
  promptParts: PromptParts;
  /** The images `prompt` carries, in order: the current turn's, and earlier ones in a replay. */
  images: readonly ImageRef[];
  /** The whole conversation, sent as a new chat if Gemini rejects the follow-up. */
  replayPrompt: string | null;
  replayParts: PromptParts | null;
  /** The images `replayPrompt` carries: earlier turns' (the most recent that fit), then the current. */
  replayImages: readonly ImageRef[];
  /** The stored messages this turn continues (their kept images carry over when saved). */
  previous: readonly StoredTurn[];
  /** The whole conversation of this turn (stored history included), as it will be stored. */
  messages: readonly TurnMessage[];
  created: string | null;
  /** The id of the stored conversation this turn continues; null when none was found. */
  storedId: string | null;
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

/** The history key of messages (neutral form). */
export function historyKeyOf(messages: readonly TurnMessage[]): string {
  return hashMessages(messages.map((m) => storedTurn(m)));
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

/** What planning needs besides the turn. */
export interface PlanOptions {
  /** The messages only continue the conversation (the Responses API's previous_response_id). */
  readonly onlyNewTurn?: boolean;
  readonly caller?: Caller | null;
  /** The most images one prompt may carry (IMAGES_PER_REQUEST less the request's files). */
  readonly maxImages?: number;
  /** Longer replays go as message.txt, which takes one of the `maxImages` places. */
  readonly inlineMaxChars?: number;
}

/**
 * Resolves the conversation for a turn and renders the prompts to send. With `onlyNewTurn` the
 * messages are only what follows the stored conversation, never a history to match. A replay
 * carries the images of earlier turns too: the client's own references when it resends the
 * history, or the images kept with the stored conversation.
 */
export async function planConversation(
  requestedId: string | null | undefined,
  turn: ChatTurn,
  store: ConversationStore,
  options: PlanOptions = {},
): Promise<ConversationPlan> {
  const caller =
    options.caller === undefined ? { keyId: ANONYMOUS, role: 'user' as const } : options.caller;
  const history = options.onlyNewTurn ? [] : historyBefore(turn.messages);
  const found = await findConversation(requestedId, history, store, caller);
  // A seed-style client sends only the new turn: it continues from the latest. A resent history
  // continues from the turn it ends; one that matches no turn of ours is replayed in a new chat.
  const chat = !found
    ? null
    : history.length === 0
      ? chatOf(found)
      : chatAt(found, historyKeyOf(history));
  const conversationId = found?.conversation_id ?? requestedId ?? store.newId();
  const previous = found ? await withKeptImages(found.messages, store) : [];
  const messages =
    history.length === 0 && found
      ? [...previous.map(fromStored), ...turn.messages]
      : withKeptRefs(turn.messages, history.length, previous);
  const full = { ...turn, messages };
  // A replay that may never happen (after a 1097) must not make a follow-up fetch or fail on
  // earlier images: it carries the kept and inline ones only.
  const replayTurn = chat ? { ...full, messages: localImagesOnly(messages) } : full;
  const renderReplay = (maxImages: number | undefined) =>
    renderPromptParts(replayTurn, {
      continued: false,
      ...(maxImages === undefined ? {} : { maxImages }),
    });
  let replay = renderReplay(options.maxImages);
  if (
    options.maxImages !== undefined &&
    replay.images.length >= options.maxImages &&
    joinPromptParts(replay).length > (options.inlineMaxChars ?? Number.POSITIVE_INFINITY)
  ) {
    replay = renderReplay(options.maxImages - 1);
  }
  const current = renderPromptParts(full, { continued: true });
  const sent = chat ? current : replay;
  return {
    conversationId,
    chat,
    prompt: joinPromptParts(sent),
    promptParts: sent,
    images: sent.images.map(imageRef),
    replayPrompt: chat ? joinPromptParts(replay) : null,
    replayParts: chat ? replay : null,
    replayImages: chat ? replay.images.map(imageRef) : [],
    previous: found?.messages ?? [],
    messages,
    created: found?.created_at ?? null,
    storedId: found?.conversation_id ?? null,
    turns: found?.turns ?? {},
    owner: found?.owner ?? caller?.keyId ?? ANONYMOUS,
  };
}

/**
 * A resent history's earlier user messages, their images replaced by the ones kept with the same
 * stored message (same place, same text, as many images), so a replay reads them from disk
 * instead of fetching them again.
 */
function withKeptRefs(
  messages: readonly TurnMessage[],
  historyLength: number,
  stored: readonly StoredTurn[],
): readonly TurnMessage[] {
  return messages.map((m, i) => {
    const kept = stored[i]?.images ?? [];
    if (i >= historyLength || m.role !== 'user' || kept.length === 0) {
      return m;
    }
    const images = m.content.filter((p) => p.type === 'image').length;
    if (images !== kept.length || storedTurn(m).content !== stored[i]?.content) {
      return m;
    }
    let k = 0;
    return {
      ...m,
      content: m.content.map((p) =>
        p.type === 'image' ? { ...p, url: KEPT_PREFIX + (kept[k++] ?? '') } : p,
      ),
    };
  });
}

/** The messages with earlier images that would need fetching or an upload file left out. */
function localImagesOnly(messages: readonly TurnMessage[]): readonly TurnMessage[] {
  const lastAnswer = messages.findLastIndex((m) => m.role === 'assistant');
  return messages.map((m, i) =>
    i < lastAnswer && m.role === 'user'
      ? {
          ...m,
          content: m.content.filter(
            (p) => p.type !== 'image' || p.url.startsWith(KEPT_PREFIX) || p.url.startsWith('data:'),
          ),
        }
      : m,
  );
}

/** A rendered image URL as a reference: kept images by name, the client's as they are. */
function imageRef(url: string): ImageRef {
  return url.startsWith(KEPT_PREFIX) ? { kept: url.slice(KEPT_PREFIX.length) } : url;
}

/** The stored record after a turn, and the key its full history is found by. */
export function conversationAfterTurn(
  cp: ConversationPlan,
  answer: TurnAnswer,
  model: string,
  chat: ChatMetadata | null,
  keptNames: ReadonlyMap<string, string> = new Map(),
): { conversation: Conversation; key: string } {
  const keptName = (url: string) =>
    url.startsWith(KEPT_PREFIX) ? url.slice(KEPT_PREFIX.length) : keptNames.get(url);
  const turns = [
    ...cp.messages.map((m, i) => withCarriedImages(storedTurn(m, keptName), m, cp.previous[i])),
    storedTurn({ role: 'assistant', text: answer.text, toolCalls: answer.toolCalls }),
  ];
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
