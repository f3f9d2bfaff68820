/**
 * What a save does on disk beyond the happy path: folders made again when removed, the count kept
 * without an existence check when the caller knows the file was stored, and the save thread's
 * order, errors and death.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { conversationAfterTurn, planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore, type ChatBackend } from '../../../src/api/index.ts';
import { SaveThread } from '../../../src/api/save-thread.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import { startWorkerApp } from './app-fixture.ts';
import { CRASHING_SOURCE, answer, chat, filesIn, turnOf } from './save-files.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gk-save-'));

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
    const run = vi.spyOn(SaveThread.prototype, 'run');
    onTestFinished(() => run.mockRestore());
    const checks = () => run.mock.calls.filter(([files]) => files.checkExisted).length;
    await saveTurn(store, 'a', 'Q1');
    expect(store.count()).toBe(1);
    const followUp = await saveTurn(store, 'a', 'Q2');
    expect(followUp.storedId).toBe('a');
    expect(store.count()).toBe(1);
    // The caller knew both times (the plan read the file, or found none): no look on disk.
    expect(run).toHaveBeenCalledTimes(2);
    expect(checks()).toBe(0);
    // A caller that does not say (undefined) gets the check on disk.
    const cp = await planConversation('a', turnOf('Q3'), store);
    const { conversation, key } = conversationAfterTurn(
      cp,
      { text: 'A3', toolCalls: [] },
      'm',
      chat,
    );
    await store.save(conversation, key);
    expect(checks()).toBe(1);
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
    const run = vi.spyOn(SaveThread.prototype, 'run');
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
      expect(run).toHaveBeenCalledTimes(3);
      expect(run.mock.calls.filter(([files]) => files.checkExisted)).toEqual([]);
    } finally {
      run.mockRestore();
      await app.close();
    }
  });
});

describe('the save thread', () => {
  it('runs saves in the order they were asked for', async () => {
    const dir = path.join(tmp(), 'c');
    const thread = new SaveThread();
    onTestFinished(() => thread.terminate());
    const saves = ['1', '2', '3', '4', '5'].map((n) => thread.run(filesIn(dir, 'one', n)));
    expect((await Promise.all(saves)).map((s) => s.existed)).toEqual([
      false,
      true,
      true,
      true,
      true,
    ]);
    expect(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')).toBe('5');
    expect(fs.readlinkSync(path.join(dir, '.history-keys', 'k'))).toBe('one');
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it("fails a save with the failing call's error and code, and the next save still runs", async () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, 'blocked'), 'a file where the folder goes');
    const thread = new SaveThread();
    onTestFinished(() => thread.terminate());
    const blocked = path.join(root, 'blocked', 'c');
    await expect(thread.run(filesIn(blocked, 'one', 'x'))).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
    fs.rmSync(path.join(root, 'blocked'));
    await expect(thread.run(filesIn(blocked, 'one', 'y'))).resolves.toEqual({ existed: false });
    expect(fs.readFileSync(path.join(blocked, 'one.json'), 'utf8')).toBe('y');
  });

  it("a dead thread's late exit fails none of the saves its successor holds", async () => {
    const dir = path.join(tmp(), 'c');
    const thread = new SaveThread({ source: CRASHING_SOURCE });
    onTestFinished(() => thread.terminate());
    await expect(thread.run(filesIn(dir, 'one', 'crash'))).rejects.toThrow(/stopped \(boom\)/);
    // Between the dead thread's 'error' and its 'exit': this save goes to a new thread.
    await expect(thread.run(filesIn(dir, 'two', 'b'))).resolves.toEqual({ existed: false });
    expect(fs.readFileSync(path.join(dir, 'two.json'), 'utf8')).toBe('b');
  });

  it("a store's close lets the saves in flight finish", async () => {
    const store = new ConversationStore(tmp());
    const cp = await planConversation('closing', turnOf('Q1'), store);
    const { conversation, key } = conversationAfterTurn(cp, answer('A1'), 'm', chat);
    const saving = store.save(conversation, key, { replaces: false });
    await store.close();
    await expect(saving).resolves.toBeUndefined();
    expect(fs.existsSync(path.join(store.dir, 'closing.json'))).toBe(true);
  });

  it('fails the saves in flight when the thread dies, and starts again for the next', async () => {
    const dir = path.join(tmp(), 'c');
    const thread = new SaveThread();
    onTestFinished(() => thread.terminate());
    await thread.run(filesIn(dir, 'one', 'a'));
    // Large enough that the thread is still at it when it is stopped.
    const inFlight = thread.run({ ...filesIn(dir, 'one', 'b'), body: 'b'.repeat(4 << 20) });
    await thread.terminate();
    await expect(inFlight).rejects.toThrow(/save thread stopped/);
    await expect(thread.run(filesIn(dir, 'two', 'c'))).resolves.toEqual({ existed: false });
    expect(fs.readFileSync(path.join(dir, 'two.json'), 'utf8')).toBe('c');
  });
});
