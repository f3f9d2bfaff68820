/**
 * Agent loops in the conversation store: the history key covers tool calls and tool results
 * (so the gateway and the worker agree, and a loop continues natively), and a loop the worker
 * does not hold is replayed with its calls and results rendered back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  conversationAfterTurn,
  historyKeyOf,
  planConversation,
} from '../../../src/api/conversation-plan.ts';
import { ConversationStore } from '../../../src/api/conversations.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import { hashMessages, historyBefore, historyKey } from '../../../src/history-key.ts';

const tools = [
  {
    type: 'function',
    function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
  },
];
const turnOf = (messages: unknown[]) => chatTurnOf(parseChatRequest({ messages, tools }));
const call = { id: 'call_a1', name: 'get_weather', arguments: '{"city":"Oslo"}' };
const user = { role: 'user', content: 'weather?' };
const answer = {
  role: 'assistant',
  content: null,
  tool_calls: [
    { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } },
  ],
};
const result = { role: 'tool', tool_call_id: call.id, content: 'sunny' };
const chat = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' };

describe('history key with tools', () => {
  it('keeps the key of a plain chat, and tells calls and results apart', () => {
    const plain = [user, { role: 'assistant', content: 'hi' }];
    expect(hashMessages(plain)).toBe(hashMessages(plain.map((m) => ({ ...m }))));
    const other = { ...answer, tool_calls: [{ ...answer.tool_calls[0], id: 'call_b' }] };
    expect(hashMessages([user, answer])).not.toBe(hashMessages([user, other]));
    expect(hashMessages([user, { role: 'assistant', content: '' }])).not.toBe(
      hashMessages([user, answer]),
    );
    // Arguments re-serialized by a client (spacing) keep the key.
    const spaced = {
      ...answer,
      tool_calls: [
        { ...answer.tool_calls[0], function: { name: call.name, arguments: '{ "city": "Oslo" }' } },
      ],
    };
    expect(hashMessages([user, spaced])).toBe(hashMessages([user, answer]));
  });

  it('takes the history of a tool-result turn up to the answer that called', () => {
    expect(historyBefore([user, answer, result])).toEqual([user, answer]);
    expect(historyBefore([user, { role: 'assistant', content: 'a' }, user])).toHaveLength(2);
    expect(historyKey([user, answer, result])).toBe(hashMessages([user, answer]));
    // Text beside the results (an Anthropic user message with tool_result and text blocks).
    const beside = { role: 'user', content: 'Also: be brief.' };
    expect(historyBefore([user, answer, result, beside])).toEqual([user, answer]);
  });
});

describe('agent loops in the conversation store', () => {
  it('continues natively after the calls, sending only the results', async () => {
    const store = new ConversationStore(fs.mkdtempSync(path.join(os.tmpdir(), 'gk-tools-')));
    const first = await planConversation(undefined, turnOf([user]), store);
    const saved = conversationAfterTurn(first, { text: '', toolCalls: [call] }, 'm', chat);
    // The worker's key is the one the gateway computes from the client's next request.
    expect(saved.key).toBe(historyKey([user, answer, result]));
    await store.save(saved.conversation, saved.key);

    const next = await planConversation(undefined, turnOf([user, answer, result]), store);
    expect(next.chat).toEqual(chat);
    expect(next.conversationId).toBe(first.conversationId);
    expect(next.prompt).toContain('[Tool result: get_weather (call_a1)]');
    expect(next.prompt).not.toContain('[User]:');
    expect(next.replayPrompt).toContain('[User]: weather?');
    expect(historyKeyOf(next.messages)).toBe(hashMessages([user, answer, result]));
  });

  it('replays a loop it does not hold with the calls and results rendered back', async () => {
    const store = new ConversationStore(fs.mkdtempSync(path.join(os.tmpdir(), 'gk-tools-')));
    const plan = await planConversation(undefined, turnOf([user, answer, result]), store);
    expect(plan.chat).toBeNull();
    expect(plan.prompt).toContain('[Assistant]: ```tool-call');
    expect(plan.prompt).toContain('"city":"Oslo"');
    expect(plan.prompt).toContain('[Tool result: get_weather (call_a1)]');
  });
});
