import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  continuesConversation,
  hashMessages,
  historyBefore,
  historyKey,
  historyKeyAfter,
  historyKeys,
  messageText,
} from '../../../src/gateway/index.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('historyKey', () => {
  const conversation = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'And now?' },
  ];

  it('is sha256 of the canonical JSON of the messages before the last user message', () => {
    const expected = sha(
      '[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]',
    );
    expect(historyKey(conversation)).toBe(expected);
  });

  it('is stable: a fixed vector, equal for equal input, and independent of other fields', () => {
    expect(historyKey([{ role: 'user', content: 'x' }])).toBe(sha('[]'));
    expect(historyKey([{ role: 'user', content: 'x' }])).toBe(
      '4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945',
    );
    const withExtras = conversation.map((m, i) => ({ ...m, name: `n${i}`, extra: { i } }));
    expect(historyKey(withExtras)).toBe(historyKey(conversation));
    expect(historyKey(structuredClone(conversation))).toBe(historyKey(conversation));
  });

  it('ignores key order inside a message and the last user message itself', () => {
    const reordered = conversation.map((m) => ({ content: m.content, role: m.role }));
    expect(historyKey(reordered)).toBe(historyKey(conversation));
    const otherQuestion = [...conversation.slice(0, 3), { role: 'user', content: 'Different' }];
    expect(historyKey(otherQuestion)).toBe(historyKey(conversation));
  });

  it('normalises content: text parts joined by newline, images ignored, trimmed', () => {
    const parts = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hi' },
          { type: 'image_url', image_url: { url: 'data:x' } },
          { type: 'text', text: 'there' },
        ],
      },
      { role: 'assistant', content: 'Hello!  \n' },
      { role: 'user', content: 'q' },
    ];
    const plain = [
      { role: 'user', content: 'Hi\nthere' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'q' },
    ];
    expect(historyKey(parts)).toBe(historyKey(plain));
    expect(messageText(null)).toBe('');
    expect(messageText(42)).toBe('');
  });

  it('counts developer as system, and tells roles and contents apart', () => {
    const dev = [
      { role: 'developer', content: 'S' },
      { role: 'user', content: 'q' },
    ];
    const sys = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'q' },
    ];
    expect(historyKey(dev)).toBe(historyKey(sys));
    const asUser = [
      { role: 'user', content: 'S' },
      { role: 'user', content: 'q' },
    ];
    expect(historyKey(asUser)).not.toBe(historyKey(sys));
    const changed = [
      { role: 'system', content: 'T' },
      { role: 'user', content: 'q' },
    ];
    expect(historyKey(changed)).not.toBe(historyKey(sys));
  });

  it('historyKeyAfter is the key the next turn carries', () => {
    const turn1 = [{ role: 'user', content: 'Hi' }];
    const next = historyKeyAfter(turn1, 'Hello!');
    const turn2 = [
      ...turn1,
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'More' },
    ];
    expect(historyKey(turn2)).toBe(next);
    expect(hashMessages(historyBefore(turn2))).toBe(next);
  });

  it('historyKeys gives the same keys from one hashing, whichever is asked first', () => {
    const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a": 1}' } };
    const histories = [
      [],
      [{ role: 'user', content: 'Hi' }],
      conversation,
      [...conversation, { role: 'assistant', content: 'x', tool_calls: [call] }],
      [
        ...conversation,
        { role: 'assistant', content: '', tool_calls: [call] },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
        { role: 'user', content: 'and?' },
      ],
    ];
    for (const messages of histories) {
      const keyFirst = historyKeys(messages);
      expect(keyFirst.key()).toBe(historyKey(messages));
      expect(keyFirst.keyAfter('Sure.')).toBe(historyKeyAfter(messages, 'Sure.'));
      const afterFirst = historyKeys(messages);
      expect(afterFirst.keyAfter('Sure.', [call])).toBe(historyKeyAfter(messages, 'Sure.', [call]));
      expect(afterFirst.key()).toBe(historyKey(messages));
      expect(afterFirst.keyAfter('Other')).toBe(historyKeyAfter(messages, 'Other'));
    }
  });

  it('continuesConversation only when an earlier answer is in the history', () => {
    expect(
      continuesConversation([
        { role: 'system', content: 's' },
        { role: 'user', content: 'q' },
      ]),
    ).toBe(false);
    expect(continuesConversation(conversation)).toBe(true);
    expect(continuesConversation([])).toBe(false);
  });
});
