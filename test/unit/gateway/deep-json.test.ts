/**
 * Deeply nested JSON at the gateway, against fake workers: a deep body is the gateway's own 400 in
 * the client's dialect and reaches no node; a deep tool-call arguments string (which the gateway
 * only keys on) goes to one node, whose 400 is passed on without failing over; the history key
 * never throws on it.
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { hashMessages, type KeyedMessage } from '../../../src/gateway/index.ts';
import { MAX_JSON_DEPTH } from '../../../src/http/index.ts';
import {
  anthropicWithInput,
  chatWithArguments,
  googleWithField,
  nestedObjects as objects,
  tooDeepError,
} from '../support/deep-json.ts';
import { send } from './dialect-fixtures.ts';
import { serverScope } from './fake-servers.ts';
import { metricValue, node } from './helpers.ts';

const scope = serverScope();
const callHistory = (args: string) =>
  (JSON.parse(chatWithArguments(args)) as { messages: KeyedMessage[] }).messages;

describe('deep JSON at the gateway', () => {
  it("answers a deep body itself, in each dialect's shape, and sends it to no node", async () => {
    const fail = (_req: unknown, res: http.ServerResponse) => {
      res.writeHead(500).end();
    };
    const a = await scope.worker(fail);
    const b = await scope.worker(fail);
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a' }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const anthropic = await send(g, '/v1/messages', anthropicWithInput(objects(5000)));
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toEqual(tooDeepError.anthropic());
    const google = await send(
      g,
      '/v1beta/models/gemini-2.5-flash:generateContent',
      googleWithField(objects(2000)),
    );
    expect(google.status).toBe(400);
    expect(await google.json()).toMatchObject(tooDeepError.google());
    const openai = await send(g, '/v1/chat/completions', `{"messages":[${objects(3000)}]}`);
    expect(openai.status).toBe(400);
    expect(await openai.json()).toMatchObject(tooDeepError.openai(null));
    // A body exactly at the limit (the body's own object is a level) is the worker's to judge,
    // one level more is not.
    const within = await send(g, '/v1/chat/completions', `{"x":${objects(MAX_JSON_DEPTH - 1)}}`);
    expect(within.status).toBe(500);
    expect(a.seen.length + b.seen.length).toBeGreaterThan(0);
    const before = a.seen.length + b.seen.length;
    await send(g, '/v1/chat/completions', `{"x":${objects(MAX_JSON_DEPTH)}}`);
    expect(a.seen.length + b.seen.length).toBe(before);
  });

  it("passes on a worker's 400 for deep tool arguments without failing over", async () => {
    const refusal = JSON.stringify({
      error: { message: 'too deep', type: 'invalid_request_error', param: 'p', code: null },
    });
    const refuse = (_req: unknown, res: http.ServerResponse) => {
      res
        .writeHead(400, { 'content-type': 'application/json', 'x-upstream-sent': 'false' })
        .end(refusal);
    };
    const a = await scope.worker(refuse);
    const b = await scope.worker(refuse);
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a' }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const body = JSON.stringify({
      model: 'gemini-2.5-flash',
      messages: callHistory(objects(5000)),
    });
    const res = await send(g, '/v1/chat/completions', body);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(refusal);
    expect(a.seen.length + b.seen.length).toBe(1);
    expect(await metricValue(g.metrics, 'gateway_failovers_total')).toBe(0);
  });

  it('keys a history whose tool arguments nest too deep by their text, without throwing', () => {
    const deep = objects(5000);
    const key = hashMessages(callHistory(deep));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    // Kept as text, not re-serialized: a trailing space is part of the key.
    expect(hashMessages(callHistory(`${deep} `))).not.toBe(key);
    // Within the limit, arguments are re-serialized compactly, as before.
    const within = objects(MAX_JSON_DEPTH);
    expect(hashMessages(callHistory(` ${within} `))).toBe(hashMessages(callHistory(within)));
  });
});
