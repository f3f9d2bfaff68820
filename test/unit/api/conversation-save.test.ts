/**
 * What a save does on disk beyond the happy path: folders made once yet made again when removed,
 * and the count kept without an existence check when the caller knows the file was stored.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { conversationAfterTurn, planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore, type ChatBackend } from '../../../src/api/index.ts';
import { EnsuredFolder } from '../../../src/api/ensured-folder.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import { startWorkerApp } from './app-fixture.ts';

const turnOf = (content: string) =>
  chatTurnOf(parseChatRequest({ messages: [{ role: 'user', content }] }));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gk-save-'));
const chat = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' };
const answer = (text: string) => ({ text, toolCalls: [] });

async function saveTurn(store: ConversationStore, id: string | undefined, text: string) {
  const cp = await planConversation(id, turnOf(text), store);
  const { conversation, key } = conversationAfterTurn(cp, { text, toolCalls: [] }, 'm', chat);
  await store.save(conversation, key, { replaces: cp.storedId === cp.conversationId });
  return cp;
}

describe('saving a conversation', () => {
  it('succeeds after someone removed the whole folder, and the history key still finds it', async () => {
    const dir = path.join(tmp(), 'conversations');
    const store = new ConversationStore(dir);
    const first = await saveTurn(store, 'one', 'Q1');
    fs.rmSync(dir, { recursive: true });
    const second = await saveTurn(store, 'two', 'Q2');
    expect(second.storedId).toBeNull();
    expect((await store.get('two'))?.messages.at(-1)?.content).toBe('Q2');
    expect(await store.get(first.conversationId)).toBeNull();
    const resent = chatTurnOf(
      parseChatRequest({
        messages: [
          { role: 'user', content: 'Q2' },
          { role: 'assistant', content: 'Q2' },
          { role: 'user', content: 'more' },
        ],
      }),
    );
    expect((await planConversation(undefined, resent, store)).conversationId).toBe('two');
  });

  it('succeeds after someone removed only the key folder', async () => {
    const dir = path.join(tmp(), 'conversations');
    const store = new ConversationStore(dir);
    await saveTurn(store, 'one', 'Q1');
    fs.rmSync(path.join(dir, '.history-keys'), { recursive: true });
    await saveTurn(store, 'two', 'Q2');
    expect(fs.readdirSync(path.join(dir, '.history-keys'))).toHaveLength(1);
  });

  it('counts a new conversation once, not its follow-ups, with or without the caller knowing', async () => {
    const store = new ConversationStore(tmp());
    const access = vi.spyOn(fs.promises, 'access');
    onTestFinished(() => access.mockRestore());
    await saveTurn(store, 'a', 'Q1');
    expect(store.count()).toBe(1);
    const followUp = await saveTurn(store, 'a', 'Q2');
    expect(followUp.storedId).toBe('a');
    expect(store.count()).toBe(1);
    // The caller knew both times (the plan read the file, or found none): no look on disk.
    expect(access).not.toHaveBeenCalled();
    // A caller that does not say (undefined) gets the check on disk.
    const cp = await planConversation('a', turnOf('Q3'), store);
    const { conversation, key } = conversationAfterTurn(
      cp,
      { text: 'A3', toolCalls: [] },
      'm',
      chat,
    );
    await store.save(conversation, key);
    expect(access).toHaveBeenCalledTimes(1);
    expect(store.count()).toBe(1);
    const other = conversationAfterTurn(cp, { text: 'A', toolCalls: [] }, 'm', chat);
    await store.save({ ...other.conversation, conversation_id: 'b' }, 'k-b');
    expect(store.count()).toBe(2);
    expect(fs.readdirSync(store.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the history-key index', () => {
  const resent = (q: string, a: string) =>
    chatTurnOf(
      parseChatRequest({
        messages: [
          { role: 'user', content: q },
          { role: 'assistant', content: a },
          { role: 'user', content: 'next' },
        ],
      }),
    );

  it('holds links to the id, and still reads a key file written before links', async () => {
    const store = new ConversationStore(tmp());
    const cp = await planConversation('linked', turnOf('Q1'), store);
    const { conversation, key } = conversationAfterTurn(cp, answer('A1'), 'm', chat);
    await store.save(conversation, key);
    const entry = path.join(store.dir, '.history-keys', key);
    expect(fs.readlinkSync(entry)).toBe('linked');
    expect((await planConversation(undefined, resent('Q1', 'A1'), store)).storedId).toBe('linked');

    fs.rmSync(entry);
    fs.writeFileSync(entry, 'linked\n');
    expect((await planConversation(undefined, resent('Q1', 'A1'), store)).storedId).toBe('linked');
  });

  it('points a key saved again at the newer conversation, leaving no temp link', async () => {
    const store = new ConversationStore(tmp());
    for (const id of ['first', 'second']) {
      const cp = await planConversation(id, turnOf('Q1'), store);
      const { conversation, key } = conversationAfterTurn(cp, answer('A1'), 'm', chat);
      await store.save(conversation, key);
    }
    expect((await planConversation(undefined, resent('Q1', 'A1'), store)).storedId).toBe('second');
    expect(fs.readdirSync(path.join(store.dir, '.history-keys'))).toHaveLength(1);
  });
});

const backend: ChatBackend = {
  async *stream() {
    yield { type: 'text', delta: 'A' };
    const result = { text: 'A', thoughts: '', images: [], chat, modelName: null };
    yield { type: 'done', result };
  },
};

describe('a turn through the route', () => {
  it('saves a new conversation and its follow-up, streamed or not, without an existence check', async () => {
    const store = new ConversationStore(path.join(tmp(), 'conversations'));
    const userKey = 'sk-conversation-save-0123456789';
    const app = await startWorkerApp({
      name: 'conversation-save',
      backend,
      userKey,
      deps: { conversations: store },
    });
    const access = vi.spyOn(fs.promises, 'access');
    try {
      const ask = async (stream: boolean, extra: object) => {
        const res = await fetch(`${app.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gemini-3-flash',
            messages: [{ role: 'user', content: 'Q' }],
            stream,
            ...extra,
          }),
        });
        expect(res.status).toBe(200);
        await res.text();
      };
      await ask(false, { conversation_id: 'route-a' });
      await ask(true, { conversation_id: 'route-a' });
      await ask(true, { conversation_id: 'route-b' });
      expect((await store.get('route-a'))?.messages).toHaveLength(4);
      expect(store.count()).toBe(2);
      expect(access).not.toHaveBeenCalled();
    } finally {
      access.mockRestore();
      await app.close();
    }
  });
});

describe('EnsuredFolder', () => {
  it('makes the folder once, not before every write', async () => {
    const dir = path.join(tmp(), 'a', 'b');
    const folder = new EnsuredFolder(dir);
    const mkdir = vi.spyOn(fs.promises, 'mkdir');
    try {
      for (const name of ['x', 'y', 'z']) {
        await folder.write(() => fs.promises.writeFile(path.join(dir, name), name));
      }
      expect(mkdir).toHaveBeenCalledTimes(1);
    } finally {
      mkdir.mockRestore();
    }
    expect(fs.readdirSync(dir)).toEqual(['x', 'y', 'z']);
  });

  it('does not remember a failed mkdir: the next write tries again', async () => {
    const root = tmp();
    const dir = path.join(root, 'blocked', 'inner');
    fs.writeFileSync(path.join(root, 'blocked'), 'a file where the folder goes');
    const folder = new EnsuredFolder(dir);
    const write = () => folder.write(() => fs.promises.writeFile(path.join(dir, 'x'), '1'));
    await expect(write()).rejects.toMatchObject({ code: 'ENOTDIR' });
    fs.rmSync(path.join(root, 'blocked'));
    await write();
    expect(fs.readFileSync(path.join(dir, 'x'), 'utf8')).toBe('1');
  });
});
