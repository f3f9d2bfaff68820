import { describe, expect, it } from 'vitest';
import { queueNameFor, queueNames } from '../../../src/queue/index.ts';
import { decodeReply, encodeReply, type ReplyMessage } from '../../../src/queue/wire.ts';

describe('queue names', () => {
  it('keeps a plain account readable', () => {
    expect(queueNameFor('alice@example.com')).toBe('chat.alice@example.com');
    expect(queueNameFor('gemini-worker-01')).toBe('chat.gemini-worker-01');
  });

  it('never lets a ":" through (BullMQ forbids it) and keeps distinct accounts distinct', () => {
    const a = queueNameFor('a:b');
    const b = queueNameFor('a_b');
    expect(a).not.toContain(':');
    expect(a).not.toBe(b);
    expect(queueNameFor('x'.repeat(300)).length).toBeLessThan(120);
  });

  it('derives channels from the prefix and the instance', () => {
    const n = queueNames('gk', 'acc');
    expect(n.queue).toBe('chat.acc');
    expect(n.cancel).toBe('gk:chat.acc:cancel');
    expect(n.reply('i1')).toBe('gk:chat.acc:reply:i1');
  });
});

describe('reply messages', () => {
  it('round-trip, and anything else decodes to null', () => {
    const m: ReplyMessage = { id: 'j', seq: 3, t: 'event', event: { type: 'text', delta: 'hi' } };
    expect(decodeReply(encodeReply(m))).toEqual(m);
    expect(decodeReply('not json')).toBeNull();
    expect(decodeReply('{"id":1}')).toBeNull();
    expect(decodeReply('null')).toBeNull();
  });
});
