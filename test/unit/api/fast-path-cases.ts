/**
 * The differential's table: every chat route the worker's fast path serves, each with every
 * variant of key and body (and the drain switch), then spellings the fast path must leave to
 * express. `fast` says which side of the listener must answer.
 */
import { gzipSync } from 'node:zlib';
import type { RawRequest } from './raw-exchange.ts';

export const KEY = 'sk-fast-path-user-0001';
/** The fixture's body limit: small, so an oversize body is cheap to send. */
export const LIMIT_BYTES = 4096;

/** One request of the table. */
export interface Case {
  readonly label: string;
  readonly method: string;
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Whether the fast path takes it (else express's app.handle sees it). */
  readonly fast: boolean;
  readonly draining?: boolean;
}

type Dialect = 'openai' | 'anthropic' | 'google';

interface Route {
  readonly target: string;
  readonly dialect: Dialect;
  readonly body: unknown;
}

const MODEL = 'gemini-2.5-flash';
const user = [{ role: 'user', content: 'Hello' }];
const contents = [{ role: 'user', parts: [{ text: 'Hello' }] }];
const claude = { model: 'claude-haiku-4-5', max_tokens: 64, messages: user };
const google = (action: string) => `/v1beta/models/${action}`;

const ROUTES: readonly Route[] = [
  { target: '/v1/chat/completions', dialect: 'openai', body: { model: MODEL, messages: user } },
  {
    target: '/v1/chat/completions',
    dialect: 'openai',
    body: { model: MODEL, messages: user, stream: true },
  },
  { target: '/v1/chat/completions', dialect: 'openai', body: { model: 'nope', messages: user } },
  { target: '/v1/completions', dialect: 'openai', body: { model: MODEL, prompt: 'Hello' } },
  { target: '/v1/responses', dialect: 'openai', body: { model: MODEL, input: 'Hello' } },
  {
    target: '/v1/responses',
    dialect: 'openai',
    body: { model: MODEL, input: 'Hello', stream: true },
  },
  { target: '/v1/messages', dialect: 'anthropic', body: claude },
  { target: '/v1/messages', dialect: 'anthropic', body: { ...claude, stream: true } },
  { target: '/v1/messages/count_tokens', dialect: 'anthropic', body: claude },
  { target: google(`${MODEL}:generateContent`), dialect: 'google', body: { contents } },
  {
    target: google(`${MODEL}:streamGenerateContent?alt=sse`),
    dialect: 'google',
    body: { contents },
  },
  { target: google(`${MODEL}:streamGenerateContent`), dialect: 'google', body: { contents } },
  { target: google(`${MODEL}:countTokens`), dialect: 'google', body: { contents } },
  { target: google(`models%2F${MODEL}:generateContent`), dialect: 'google', body: { contents } },
  { target: google('nope:generateContent'), dialect: 'google', body: { contents } },
  { target: google(`${MODEL}:bogus`), dialect: 'google', body: { contents } },
];

/** How each dialect's clients send their key. */
function keyed(route: Route, key: string | null): Pick<Case, 'target' | 'headers'> {
  if (key === null) {
    return { target: route.target, headers: {} };
  }
  if (route.dialect === 'google') {
    const sep = route.target.includes('?') ? '&' : '?';
    return { target: `${route.target}${sep}key=${key}`, headers: {} };
  }
  if (route.dialect === 'anthropic') {
    return { target: route.target, headers: { 'x-api-key': key, 'anthropic-version': '1' } };
  }
  return { target: route.target, headers: { authorization: `Bearer ${key}` } };
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Every variant of one route: keys, bodies, encodings, Expect, drain. */
function variantsOf(route: Route): Case[] {
  const json = Buffer.from(JSON.stringify(route.body));
  const ok = keyed(route, KEY);
  const label = (what: string) =>
    `${route.target} ${JSON.stringify(route.body).slice(0, 60)}: ${what}`;
  const plain = (what: string, c: Partial<Case>): Case => ({
    label: label(what),
    method: 'POST',
    ...ok,
    body: json,
    fast: true,
    ...c,
    headers: { ...JSON_TYPE, ...ok.headers, ...c.headers },
  });
  const over = Buffer.alloc(LIMIT_BYTES * 2, 'x');
  return [
    plain('valid', {}),
    plain('no key', keyed(route, null)),
    plain('wrong key', keyed(route, 'sk-wrong')),
    plain('a Google header key', {
      target: route.target,
      headers: { 'x-goog-api-key': KEY },
    }),
    plain('invalid JSON', { body: Buffer.from('{"model": ') }),
    plain('a JSON array', { body: Buffer.from('[1, 2]') }),
    plain('empty', { body: Buffer.alloc(0) }),
    plain('text/plain', { headers: { 'content-type': 'text/plain' } }),
    plain('no content type', { headers: { 'content-type': '' } }),
    plain('gzip', { headers: { 'content-encoding': 'gzip' }, body: gzipSync(json) }),
    plain('an unknown encoding', { headers: { 'content-encoding': 'br2' } }),
    plain('latin1 charset', { headers: { 'content-type': 'application/json; charset=latin1' } }),
    plain('declared oversize', {
      headers: { 'content-length': String(LIMIT_BYTES + 1) },
      body: Buffer.alloc(0),
    }),
    plain('oversize, chunked', {
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.from(`${over.length.toString(16)}\r\n${over.toString()}\r\n0\r\n\r\n`),
    }),
    plain('Expect: 100-continue', { headers: { expect: '100-continue' } }),
    plain('a query string', {
      target: `${ok.target}${ok.target.includes('?') ? '&' : '?'}x=1`,
    }),
    plain('a request id', { headers: { 'x-request-id': 'my-request.1' } }),
    plain('draining', { draining: true }),
  ];
}

/** Spellings express serves and the fast path leaves to it. */
const EXPRESS_ONLY: readonly (readonly [string, string])[] = [
  ['POST', '/V1/Chat/Completions'],
  ['POST', '/v1/chat/completions/'],
  ['POST', '/v1/chat/completions#x'],
  ['POST', '/v1//chat/completions'],
  ['POST', '/v1/chat%2Fcompletions'],
  ['POST', 'http://worker/v1/chat/completions'],
  ['GET', '/v1/chat/completions'],
  ['PUT', '/v1/chat/completions'],
  ['DELETE', '/v1/messages'],
  ['POST', '/v1/embeddings'],
  ['POST', '/v1/models'],
  ['POST', google(`g%E0:generateContent?key=${KEY}`)],
  ['POST', google(`a/b:generateContent?key=${KEY}`)],
  ['POST', google(`${MODEL}:generateContent/?key=${KEY}`)],
  ['POST', google(`?key=${KEY}`)],
  ['GET', google(`?key=${KEY}`)],
  ['GET', google(`${MODEL}?key=${KEY}`)],
  ['POST', google(`${MODEL}:generateContent?key=${KEY}#frag`)],
];

const chatBody = Buffer.from(JSON.stringify({ model: MODEL, messages: user }));

export const CASES: readonly Case[] = [
  ...ROUTES.flatMap(variantsOf),
  ...EXPRESS_ONLY.map(([method, target]) => ({
    label: `${method} ${target}`,
    method,
    target,
    headers: { ...JSON_TYPE, authorization: `Bearer ${KEY}` },
    body: chatBody,
    fast: false,
  })),
  ...EXPRESS_ONLY.slice(0, 3).map(([method, target]) => ({
    label: `${method} ${target}, draining`,
    method,
    target,
    headers: { ...JSON_TYPE, authorization: `Bearer ${KEY}` },
    body: chatBody,
    fast: false,
    draining: true,
  })),
];

/** The request as sent: a host, the body's length unless the case declares its own. */
export function requestOf(c: Case): RawRequest {
  const headers: Record<string, string> = { host: 'worker', connection: 'close' };
  if (c.headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(c.body.length);
  }
  for (const [name, value] of Object.entries(c.headers)) {
    if (value === '') {
      delete headers[name];
    } else {
      headers[name] = value;
    }
  }
  return { method: c.method, target: c.target, headers, body: c.body };
}
