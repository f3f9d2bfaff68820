/**
 * The proxy asks the binding store only when a request can continue something: a first turn
 * (no earlier answer, no conversation id, no uploaded file) never reaches it, so it never costs
 * a PostgreSQL round trip.
 */
import { describe, expect, it } from 'vitest';
import { historyKey } from '../../../src/gateway/index.ts';
import { answerJson, post, serverScope } from './fake-servers.ts';
import { chatBody, node } from './helpers.ts';

const scope = serverScope();

describe('proxy: affinity lookups', () => {
  it('never looks up a first turn, with or without a system prompt', async () => {
    const a = await scope.worker(answerJson('Hi.'));
    const g = await scope.gateway([node({ nodeUrl: a.url })]);
    for (const messages of [
      [{ role: 'user', content: 'Hello' }],
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    ]) {
      const res = await post(g, chatBody({ messages }));
      expect(res.status).toBe(200);
      await res.text();
    }
    await g.bindings.waitForSaves(2);
    expect(g.bindings.lookups).toEqual([]);
  });

  it('looks up a continuation once, by its history key, and routes it to the bound node', async () => {
    const a = await scope.worker(answerJson('From a.'));
    const b = await scope.worker(answerJson('From b.'));
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'x' }),
      node({ nodeUrl: b.url, account: 'y', workerId: 'w2' }),
    ]);
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'And then?' },
    ];
    await g.bindings.save([historyKey(messages)], { nodeUrl: b.url, account: 'y' });
    const res = await post(g, chatBody({ messages }));
    expect(await res.text()).toContain('From b.');
    expect(g.bindings.lookups).toEqual([[historyKey(messages)]]);
    expect(a.seen).toHaveLength(0);
  });
});
