/**
 * Conversations that branch: the Gemini ids of every turn are kept by history key, so a
 * regenerate or an edited last message continues from the turn its history matches; files from
 * before `turns` are read as their latest turn.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversationAfterTurn, planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore, MAX_STORED_TURNS } from '../../../src/api/conversations.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest, type ChatMessage } from '../../../src/api/openai/chat-schema.ts';

const turnOf = (messages: unknown[]) => chatTurnOf(parseChatRequest({ messages }));
const answer = (text: string) => ({ text, toolCalls: [] });
import { hashMessages } from '../../../src/history-key.ts';

const ids = (n: string) => ({
  cid: 'c_1',
  rid: `r_${n}`,
  rcid: `rc_${n}`,
  contextToken: `ctx_${n}`,
});
const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });

/** Plans and saves one turn answered `answer` with Gemini ids `chat`; returns the plan. */
async function turn(
  store: ConversationStore,
  messages: ChatMessage[],
  reply: string,
  chat: ReturnType<typeof ids>,
  id?: string,
) {
  const plan = turnOf(messages);
  const cp = await planConversation(id, plan, store);
  const { conversation, key } = conversationAfterTurn(
    cp,
    { text: reply, toolCalls: [] },
    'm',
    chat,
  );
  await store.save(conversation, key);
  return cp;
}

describe('conversation branches', () => {
  it('continues a regenerate or an edit from the turn its history matches, not the latest', async () => {
    const store = new ConversationStore(fs.mkdtempSync(path.join(os.tmpdir(), 'gk-branch-')));
    const first = await turn(store, [user('u1')], 'a1', ids('1'));
    const second = await turn(store, [user('u1'), assistant('a1'), user('u2')], 'a2', ids('2'));
    expect(second.chat).toEqual(ids('1'));
    expect(second.conversationId).toBe(first.conversationId);

    // [u1, a1, u2'] after [u1, a1, u2] → a2: after a1.
    for (const id of [undefined, first.conversationId]) {
      const edit = await planConversation(
        id,
        turnOf([user('u1'), assistant('a1'), user('u2 edited')]),
        store,
      );
      expect(edit.chat).toEqual(ids('1'));
      expect(edit.prompt).toBe('u2 edited');
      expect(edit.conversationId).toBe(first.conversationId);
    }
    const branched = await turn(
      store,
      [user('u1'), assistant('a1'), user('u2 edited')],
      'a2 edited',
      ids('2b'),
    );
    expect(branched.chat).toEqual(ids('1'));
    // Both branches stay reachable, each from its own ids.
    const onOld = await planConversation(
      undefined,
      turnOf([user('u1'), assistant('a1'), user('u2'), assistant('a2'), user('u3')]),
      store,
    );
    expect(onOld.chat).toEqual(ids('2'));
    const onNew = await planConversation(
      first.conversationId,
      turnOf([user('u1'), assistant('a1'), user('u2 edited'), assistant('a2 edited'), user('u3')]),
      store,
    );
    expect(onNew.chat).toEqual(ids('2b'));
    // A seed-style follow-up (only the new turn, by id) continues from the latest.
    const seedStyle = await planConversation(first.conversationId, turnOf([user('u3')]), store);
    expect(seedStyle.chat).toEqual(ids('2b'));
    // A history that matches no turn is replayed as a new chat, even with the id.
    const foreign = await planConversation(
      first.conversationId,
      turnOf([user('u1'), assistant('something else'), user('u2')]),
      store,
    );
    expect(foreign.chat).toBeNull();
    expect(foreign.prompt).toContain('[Assistant]: something else');
  });

  it('reads a file from before turns as its latest turn, and keeps the seed fields', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-branch-'));
    const messages = [
      { role: 'user', content: 'old q' },
      { role: 'assistant', content: 'old a' },
    ];
    const legacy = {
      conversation_id: 'legacy',
      created_at: '2025-01-01T00:00:00.000Z',
      updated_at: '2025-01-01T00:00:00.000Z',
      model: 'gemini-2.5-flash',
      metadata: ['c_old', 'r_old', 'rc_old'],
      context_token: null,
      messages,
    };
    fs.writeFileSync(path.join(dir, 'legacy.json'), JSON.stringify(legacy));
    const store = new ConversationStore(dir);
    const read = await store.get('legacy');
    expect(read?.turns).toEqual({
      [hashMessages(messages)]: { metadata: ['c_old', 'r_old', 'rc_old'], context_token: null },
    });
    const plan = turnOf([user('old q'), assistant('old a'), user('new q')]);
    const cp = await planConversation('legacy', plan, store);
    expect(cp.chat).toEqual({ cid: 'c_old', rid: 'r_old', rcid: 'rc_old' });
    const { conversation, key } = conversationAfterTurn(cp, answer('new a'), 'm', ids('n'));
    await store.save(conversation, key);
    const saved = JSON.parse(
      fs.readFileSync(path.join(dir, 'legacy.json'), 'utf8'),
    ) as typeof legacy & {
      turns: Record<string, unknown>;
    };
    // The seed's fields still say the latest turn; the old turn is kept beside the new one.
    expect(saved.metadata).toEqual(['c_1', 'r_n', 'rc_n']);
    expect(saved.messages).toHaveLength(4);
    expect(Object.keys(saved.turns)).toEqual([hashMessages(messages), key]);
  });

  it(`keeps at most ${MAX_STORED_TURNS} turns, dropping the oldest`, async () => {
    const store = new ConversationStore(fs.mkdtempSync(path.join(os.tmpdir(), 'gk-branch-')));
    const first = await turn(store, [user('u1')], 'a1', ids('1'));
    const c = await store.get(first.conversationId);
    const many = Object.fromEntries(
      Array.from({ length: MAX_STORED_TURNS }, (_, i) => [
        `k${i}`,
        { metadata: ['c', `r${i}`, 'rc'] as [string, string, string], context_token: null },
      ]),
    );
    await store.save({ ...c!, turns: many }, 'k');
    await turn(
      store,
      [user('u1'), assistant('a1'), user('u2')],
      'a2',
      ids('2'),
      first.conversationId,
    );
    const turns = (await store.get(first.conversationId))?.turns ?? {};
    expect(Object.keys(turns)).toHaveLength(MAX_STORED_TURNS);
    expect(turns['k0']).toBeUndefined();
    expect(Object.keys(turns).at(-1)).toBe(
      hashMessages([user('u1'), assistant('a1'), user('u2'), assistant('a2')]),
    );
  });
});
