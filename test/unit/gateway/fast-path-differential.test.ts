/**
 * The fast path against express alone: one table of spellings (method, path, encoding, key
 * placement, URL characters parseurl reads otherwise) sent on raw sockets to the whole listener
 * and to the same gateway's express app; the status, the answer and what the worker received must
 * be the same, and the fast path must have taken exactly the plain ones.
 */
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { answerJson, serverScope } from './fake-servers.ts';
import { chatBody, node } from './helpers.ts';
import { unchunk } from '../api/raw-exchange.ts';

const scope = serverScope();
const KEY = 'sk-user-key';
const googleBody = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] });

interface Spelling {
  readonly method?: string;
  /** The request target as sent, byte for byte (latin1). */
  readonly target: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  /** Whether the fast path takes it. */
  readonly fast: boolean;
}

const bearer = { authorization: `Bearer ${KEY}` };
const SPELLINGS: readonly Spelling[] = [
  { target: '/v1/chat/completions', headers: bearer, fast: true },
  { target: '/v1/chat/completions', headers: { authorization: 'Bearer sk-wrong' }, fast: true },
  // ?key= counts on Google's paths only, on both.
  { target: `/v1/chat/completions?key=${KEY}`, fast: true },
  { target: `/v1/messages?key=${KEY}`, headers: { 'anthropic-version': '1' }, fast: true },
  { target: `/v1beta/models/g:generateContent?key=${KEY}`, body: googleBody, fast: true },
  { target: `/v1beta/models/g:generateContent?key=${KEY}%20`, body: googleBody, fast: true },
  { target: `/v1beta/models/g:generateContent?key=a&key=${KEY}`, body: googleBody, fast: true },
  { target: `/v1beta/models/g%2Fx:countTokens?key=${KEY}`, body: googleBody, fast: true },
  { target: `/v1beta/models/g%E0:generateContent?key=${KEY}`, body: googleBody, fast: false },
  // A `#` ends the path for express: the key after it is no key.
  { target: `/v1beta/models/gem#ini:generateContent?key=${KEY}`, body: googleBody, fast: false },
  { target: `/v1beta/models/g:generateContent#?key=${KEY}`, body: googleBody, fast: false },
  { target: `/v1beta/models/g:generateContent?key=${KEY}#x`, body: googleBody, fast: false },
  { target: `/v1/chat/completions#x`, headers: bearer, fast: false },
  { target: `/v1/chat/completions\u00a0`, headers: bearer, fast: false },
  { target: `/v1beta/models/g:generateContent?key=${KEY}\u00a0`, body: googleBody, fast: false },
  { target: '/V1/Chat/Completions', headers: bearer, fast: false },
  { target: '/v1/chat/completions/', headers: bearer, fast: false },
  { target: '/v1/chat%2Fcompletions', headers: bearer, fast: false },
  { method: 'GET', target: '/v1/chat/completions', headers: bearer, fast: false },
  { method: 'PUT', target: '/v1/chat/completions', headers: bearer, fast: false },
  {
    target: '/v1/chat/completions',
    headers: { ...bearer, 'content-encoding': 'gzip' },
    body: gzipSync(chatBody()),
    fast: false,
  },
];

/** Sends one spelling on its own connection; resolves to the status, body and key headers. */
function exchange(url: string, s: Spelling): Promise<{ status: number; body: unknown }> {
  const body =
    typeof s.body === 'string' ? Buffer.from(s.body) : (s.body ?? Buffer.from(chatBody()));
  const head = Object.entries({
    host: 'gateway',
    'content-type': 'application/json',
    'content-length': String(body.length),
    connection: 'close',
    ...s.headers,
  }).map(([k, v]) => `${k}: ${v}\r\n`);
  const request = Buffer.concat([
    Buffer.from(`${s.method ?? 'POST'} ${s.target} HTTP/1.1\r\n${head.join('')}\r\n`, 'latin1'),
    body,
  ]);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const rawBody = /\r\ntransfer-encoding: chunked\r\n/i.test(text.slice(0, split))
        ? unchunk(text.slice(split + 4))
        : text.slice(split + 4);
      let parsed: unknown = rawBody;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        // Not JSON (node's own 400): compared as text.
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: parsed });
    });
  });
}

describe('gateway fast path beside express alone', () => {
  it('answers every spelling as express does, relays the same, and takes only the plain ones', async () => {
    const received: { url: string; body: string; key: unknown }[] = [];
    const w = await scope.worker((req, res, body) => {
      const h = req.headers;
      received.push({
        url: req.url ?? '',
        body,
        key: [h.authorization, h['x-api-key'], h['x-goog-api-key']],
      });
      answerJson('hi')(req, res);
    });
    const g = await scope.gateway([node({ nodeUrl: w.url })], {
      apiKeys: [KEY],
      expressBeside: true,
    });
    const statuses: number[] = [];
    for (const s of SPELLINGS) {
      const label = `${s.method ?? 'POST'} ${JSON.stringify(s.target)}`;
      const takenBefore = g.fastTaken.length;
      const seenBefore = received.length;
      const combined = await exchange(g.url, s);
      const combinedSaw = received.slice(seenBefore);
      const alone = await exchange(g.expressUrl ?? '', s);
      expect(combined, label).toEqual(alone);
      statuses.push(combined.status);
      expect(g.fastTaken.length - takenBefore, label).toBe(s.fast ? 1 : 0);
      expect(combinedSaw, label).toEqual(received.slice(seenBefore + combinedSaw.length));
    }
    // The reviewer's case: the key after a `#` is no key, on either side.
    expect(statuses[SPELLINGS.findIndex((s) => s.target.includes('gem#ini'))]).toBe(401);
    // The table covers answers both ways: relayed, and refused before any worker.
    expect(new Set(statuses)).toEqual(new Set([200, 400, 401, 404]));
  });
});
