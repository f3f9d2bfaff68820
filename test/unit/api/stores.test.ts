import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversationAfterTurn, planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore } from '../../../src/api/conversations.ts';
import { hashMessages } from '../../../src/history-key.ts';
import { ImageStore } from '../../../src/api/images.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest, type ChatMessage } from '../../../src/api/openai/chat-schema.ts';

const turnOf = (messages: unknown[]) => chatTurnOf(parseChatRequest({ messages }));
const answer = (text: string) => ({ text, toolCalls: [] });

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gk-unit-'));
const chat = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1', contextToken: 'ctx' };

describe('conversations', () => {
  it('saves soon a conversation built after this turn, and a read made at once waits for it', async () => {
    const store = new ConversationStore(tmp());
    const cp = await planConversation(undefined, turnOf([{ role: 'user', content: 'Q1' }]), store);
    let built = false;
    const saving = store.saveSoon(() => {
      built = true;
      const { conversation, key } = conversationAfterTurn(cp, answer('A1'), 'm', chat);
      return { conversation, historyKey: key };
    });
    // Not built in this turn (the answer goes out first), yet a read started now finds it.
    expect(built).toBe(false);
    const read = store.get(cp.conversationId);
    expect(built).toBe(false);
    expect((await read)?.messages.at(-1)).toEqual({ role: 'assistant', content: 'A1' });
    await saving;
  });

  it('continues natively by id, and by a resent history without an id', async () => {
    const store = new ConversationStore(tmp());
    const first: ChatMessage[] = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'Q1' },
    ];
    const cp1 = await planConversation(undefined, turnOf(first), store);
    expect(cp1.chat).toBeNull();
    const { conversation, key } = conversationAfterTurn(cp1, answer('A1'), 'm', chat);
    await store.save(conversation, key);

    const byId = await planConversation(
      cp1.conversationId,
      turnOf([{ role: 'user', content: 'Q2' }]),
      store,
    );
    expect(byId.chat).toEqual(chat);
    expect(byId.prompt).toBe('Q2');
    expect(byId.replayPrompt).toContain('[Assistant]: A1');

    const resent: ChatMessage[] = [
      ...first,
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ];
    const byHistory = await planConversation(undefined, turnOf(resent), store);
    expect(byHistory.conversationId).toBe(cp1.conversationId);
    expect(byHistory.prompt).toBe('Q2');

    const edited: ChatMessage[] = [
      ...first,
      { role: 'assistant', content: 'A1 (edited)' },
      { role: 'user', content: 'Q2' },
    ];
    const replay = await planConversation(undefined, turnOf(edited), store);
    expect(replay.chat).toBeNull();
    expect(replay.prompt).toContain('Conversation so far');
  });

  it('lists, reads and deletes, and refuses ids that escape the folder', async () => {
    const store = new ConversationStore(tmp());
    const cp = await planConversation('abc', turnOf([{ role: 'user', content: 'x' }]), store);
    const { conversation, key } = conversationAfterTurn(cp, answer('y'), 'm', null);
    await store.save(conversation, key);
    expect((await store.list()).map((c) => c.conversation_id)).toEqual(['abc']);
    expect(await store.get('../abc')).toBeNull();
    expect(await store.delete('abc')).toBe(true);
    expect(await store.delete('abc')).toBe(false);
  });

  it('keys histories by role and text, not by formatting', () => {
    expect(hashMessages([{ role: 'user', content: 'hi' }])).toBe(
      hashMessages([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]),
    );
    expect(hashMessages([{ role: 'user', content: 'hi' }])).not.toBe(
      hashMessages([{ role: 'assistant', content: 'hi' }]),
    );
  });
});

describe('ImageStore', () => {
  it('saves under YYYYMM/YYYYMMDD and never resolves outside its folder', async () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, 'secret.txt'), 'x');
    const store = new ImageStore(path.join(root, 'images'));
    const rel = await store.save(Buffer.from('png'), 'image/png', new Date(2026, 10, 26), 'key-a');
    expect(rel).toMatch(/^202611\/20261126\/\d+_[0-9a-f]{16}\.png$/);
    expect(await store.ownerOf(rel)).toBe('key-a');
    expect(await store.ownerOf('202611/20261126/other.png')).toBeNull();
    // The owner sidecars are never served.
    expect(await store.resolve(`.owners/${rel}`)).toBeNull();
    expect(await store.resolve(rel)).toBe(path.join(root, 'images', rel));
    expect(await store.resolve('../secret.txt')).toBeNull();
    expect(await store.resolve('/etc/passwd')).toBeNull();
    expect(await store.resolve('202611')).toBeNull();
    expect(store.count()).toBe(1);
  });
});
