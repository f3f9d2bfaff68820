/**
 * Conversations on disk, seed-compatible: DATA_DIR/conversations/<id>.json holds the Gemini
 * metadata of the latest turn ([cid, rid, rcid], as the seed stored it) plus the turns, and ours
 * adds `turns`: the Gemini ids after EVERY answer, keyed by the history key of the messages up to
 * and including that answer, so a regenerate or an edited last message continues from the turn
 * its history matches (a branch), not from the latest. A small key link per history key lets a
 * client that resends its whole history continue natively, across processes (key-links.ts).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AfterWork } from '../after-work.ts';
import { hashMessages } from '../history-key.ts';
import type { Logger } from '../logging.ts';
import type { ChatMetadata } from '../gemini/index.ts';
import { KeptImages } from './kept-images.ts';
import { KEY_DIR, historyKeyFile, readKeyLink } from './key-links.ts';
import { SaveThread, type SaveThreadOptions } from './save-thread.ts';

/** One stored message, in OpenAI's chat shape (the seed's files hold role and content only). */
export interface StoredTurn {
  role: string;
  content: string;
  /** An answer's tool calls. */
  tool_calls?: StoredToolCall[];
  /** A tool result: the call it answers. */
  tool_call_id?: string;
  /** A user message's images, by the names they are kept under (kept-images.ts). */
  images?: string[];
}

/** A tool call as OpenAI writes it in a chat message. */
export interface StoredToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface Conversation {
  conversation_id: string;
  created_at: string;
  updated_at: string;
  model: string;
  /** [cid, rid, rcid] of the latest turn, as the seed stored chat.metadata. */
  metadata: [string, string, string] | null;
  context_token: string | null;
  /** The latest branch. */
  messages: StoredTurn[];
  /** The Gemini ids after each answer, by the history key that answer ends (oldest first). */
  turns?: Record<string, TurnIds>;
  /** The key id of the key that made it ('anonymous' with ALLOW_NO_AUTH); absent in old files. */
  owner?: string;
}

/** The Gemini ids a conversation had right after one answer. */
export interface TurnIds {
  metadata: [string, string, string];
  context_token: string | null;
}

/** How a save runs: after `first`, and whether it replaces a stored file (for the count). */
export interface SaveOptions {
  readonly first?: Promise<unknown>;
  /** A file of this id was stored when the turn was planned; unknown costs a check on disk. */
  readonly replaces?: boolean;
}

/** A conversation to save under the key of its history, once `first` has settled. */
export interface ConversationToSave extends SaveOptions {
  readonly conversation: Conversation;
  readonly historyKey: string;
}

/** Turns kept per conversation; the oldest go first (a long chat of many regenerations). */
export const MAX_STORED_TURNS = 500;

const ID_PATTERN = /^[\w.-]{1,128}$/;

/** True for ids that are safe as file names (no path escape). */
export function isValidConversationId(id: string): boolean {
  return ID_PATTERN.test(id) && id !== '.' && id !== '..';
}

/** The Gemini ids of the conversation's latest turn, or null. */
export function chatOf(c: Conversation): ChatMetadata | null {
  return c.metadata ? toChat({ metadata: c.metadata, context_token: c.context_token }) : null;
}

/** The Gemini ids right after the answer that ends the history keyed `key`, or null. */
export function chatAt(c: Conversation, key: string): ChatMetadata | null {
  const ids = c.turns?.[key];
  return ids ? toChat(ids) : null;
}

function toChat(ids: TurnIds): ChatMetadata {
  const [cid, rid, rcid] = ids.metadata;
  return { cid, rid, rcid, ...(ids.context_token ? { contextToken: ids.context_token } : {}) };
}

/**
 * A file from before `turns` (the seed's, or ours before branching) knew only its latest turn:
 * that turn becomes the one entry, keyed by the stored history.
 */
export function withTurns(c: Conversation): Conversation {
  if (c.turns !== undefined && c.turns !== null && typeof c.turns === 'object') {
    return c;
  }
  const messages = Array.isArray(c.messages) ? c.messages : [];
  const turns: Record<string, TurnIds> = {};
  if (c.metadata && messages.at(-1)?.role === 'assistant') {
    turns[hashMessages(messages)] = { metadata: c.metadata, context_token: c.context_token };
  }
  return { ...c, messages, turns };
}

/**
 * Reads and writes conversations under one directory. A save runs behind the answer (off the
 * latency path); every read first waits for the saves still in flight, so a follow-up always
 * sees the turn before it.
 */
export class ConversationStore {
  private readonly pending = new Set<Promise<void>>();
  /** Does the file steps of every save, one after another. */
  private readonly saver: SaveThread;
  private total = 0;
  private readonly afterWork = new AfterWork();
  /** Images of user turns, kept for replays (under the same retention as the conversations). */
  readonly keptImages: KeptImages;

  constructor(
    readonly dir: string,
    logger?: Logger,
    saving: SaveThreadOptions = {},
  ) {
    this.saver = new SaveThread({
      onFallback: (why) => logger?.warn('conversation saves now run on the event loop', { why }),
      ...saving,
    });
    this.keptImages = new KeptImages(path.join(dir, '.images'));
  }

  newId(): string {
    return randomUUID();
  }

  async get(id: string): Promise<Conversation | null> {
    if (!isValidConversationId(id)) {
      return null;
    }
    await this.settled();
    try {
      return withTurns(JSON.parse(await fs.readFile(this.file(id), 'utf8')) as Conversation);
    } catch {
      return null;
    }
  }

  /** The conversation of `owner` whose stored history hashes to `key`, if any. */
  async findByHistoryKey(key: string, owner?: string): Promise<Conversation | null> {
    await this.settled();
    try {
      const file = path.join(this.dir, KEY_DIR, historyKeyFile(key, owner));
      const found = await this.get(await readKeyLink(file));
      return found && (found.owner ?? 'anonymous') === (owner ?? 'anonymous') ? found : null;
    } catch {
      return null;
    }
  }

  /**
   * Saves the conversation and indexes it under the key of its full history, once `first` (the
   * keeping of the images it names) has settled, so a read that sees it finds them too.
   */
  save(conversation: Conversation, historyKey: string, options: SaveOptions = {}): Promise<void> {
    return this.track(
      (options.first ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => this.write(conversation, historyKey, options.replaces)),
    );
  }

  /**
   * Saves what `build` returns as after-work (after-work.ts): a few ms after the answer went out,
   * or at once when a read comes first; reads wait for it from this call on.
   */
  saveSoon(build: () => ConversationToSave): Promise<void> {
    return this.track(
      new Promise<void>((resolve) => this.afterWork.later(resolve)).then(() => {
        const { conversation, historyKey, ...options } = build();
        return this.save(conversation, historyKey, options);
      }),
    );
  }

  private track(saving: Promise<void>): Promise<void> {
    this.pending.add(saving);
    void saving.finally(() => this.pending.delete(saving)).catch(() => {});
    return saving;
  }

  /**
   * A temp file renamed over the conversation (never half a file to read), then the key link, in
   * the save thread (save-thread.ts). `replaces` spares the existence check.
   */
  private async write(
    conversation: Conversation,
    historyKey: string,
    replaces: boolean | undefined,
  ): Promise<void> {
    const id = conversation.conversation_id;
    const file = this.file(id);
    const keyDir = path.join(this.dir, KEY_DIR);
    const keyFile = path.join(keyDir, historyKeyFile(historyKey, conversation.owner));
    const unique = `${process.pid}.${randomUUID()}.tmp`;
    const { existed } = await this.saver.run({
      file,
      tmp: `${file}.${unique}`,
      body: JSON.stringify(conversation),
      keyDir,
      keyFile,
      keyTmp: `${keyFile}.${unique}`,
      id,
      checkExisted: replaces === undefined,
    });
    if (!(replaces ?? existed)) {
      this.total += 1;
    }
  }

  /** Lets the saves in flight finish, then stops the save thread (a later save starts another). */
  async close(): Promise<void> {
    await this.settled();
    await this.saver.terminate();
  }

  /** Resolves once every save started so far has finished (failed ones included). */
  private async settled(): Promise<void> {
    this.afterWork.flush();
    if (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
  }

  async list(): Promise<{ conversation_id: string; modified: string; size_kb: number }[]> {
    await this.settled();
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    const rows = await Promise.all(
      names
        .filter((n) => n.endsWith('.json'))
        .map(async (n) => {
          const st = await fs.stat(path.join(this.dir, n)).catch(() => null);
          return st
            ? {
                conversation_id: n.slice(0, -'.json'.length),
                modified: st.mtime.toISOString(),
                size_kb: Math.round((st.size / 1024) * 100) / 100,
              }
            : null;
        }),
    );
    return rows
      .filter((r): r is NonNullable<typeof r> => r !== null)
      .sort((a, b) => b.modified.localeCompare(a.modified));
  }

  /** Deletes a conversation; false when there was none. */
  async delete(id: string): Promise<boolean> {
    if (!isValidConversationId(id)) {
      return false;
    }
    await this.settled();
    try {
      await fs.unlink(this.file(id));
      this.total = Math.max(0, this.total - 1);
      return true;
    } catch {
      return false;
    }
  }

  /** How many conversations are stored: counted by the retention sweeper, kept up by saves. */
  count(): number {
    return this.total;
  }

  /** Sets the count after a directory walk (the retention sweeper's). */
  setCount(total: number): void {
    this.total = total;
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }
}
