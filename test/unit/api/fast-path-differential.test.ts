/**
 * The worker's fast path against express alone: the same requests (methods x paths x keys x
 * bodies: valid, invalid JSON, oversize declared or not, wrong content type, gzip, no key, a
 * wrong key, Expect: 100-continue, drain on) sent on raw sockets to two apps built from the same
 * deps, one behind its fast path and one served by express only. Status, the headers a client
 * reads, the body (ids and clocks masked), the access log and the request metrics must be the
 * same, and the fast path must have taken exactly the requests it is meant to take.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDrainSwitch } from '../../../src/api/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { echoBackend, startWorkerApp, type RunningWorkerApp } from './app-fixture.ts';
import { rawExchange, type RawAnswer } from './raw-exchange.ts';
import { CASES, KEY, LIMIT_BYTES, requestOf, type Case } from './fast-path-cases.ts';

const backend = echoBackend;

/** One app and what it logged. */
interface Side {
  readonly app: RunningWorkerApp;
  readonly log: string[];
}

const drain = createDrainSwitch();
let fast: Side;
let plain: Side;

async function start(name: string, expressOnly: boolean): Promise<Side> {
  const log: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (line: Buffer) => log.push(line.toString('utf8')));
  const app = await startWorkerApp({
    name,
    backend,
    userKey: KEY,
    expressOnly,
    deps: {
      logger: createLogger({ stream }),
      drain,
      anthropicModelMap: { 'claude-haiku-4-5': 'gemini-2.5-flash' },
      limits: {
        bodyBytes: LIMIT_BYTES,
        uploadBytes: LIMIT_BYTES,
        promptChars: 10_000,
        imageBytes: LIMIT_BYTES,
        imagesPerRequest: 2,
      },
    },
  });
  return { app, log };
}

beforeAll(async () => {
  fast = await start('fast-path', false);
  plain = await start('express-only', true);
});

afterAll(async () => {
  await fast.app.close();
  await plain.app.close();
});

/** The headers a client (or the gateway) reads; the rest is node's own. */
const COMPARED_HEADERS = [
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'retry-after',
  'x-upstream-sent',
  'x-should-retry',
  'cache-control',
  'www-authenticate',
  'etag',
];

const ID_SHAPES: readonly [RegExp, string][] = [
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'],
  [/\b(chatcmpl|cmpl|resp|msg|rs|fc|call|toolu)[-_][A-Za-z0-9]+/g, '$1-<id>'],
  [/"(created|created_at|completed_at|createTime)":\s*\d+/g, '"$1":<time>'],
  [/"responseId":"[^"]*"/g, '"responseId":"<id>"'],
];

function masked(text: string): string {
  return ID_SHAPES.reduce((t, [shape, mask]) => t.replace(shape, mask), text);
}

/** What must be equal between the two sides. */
function comparable(a: RawAnswer) {
  const headers = Object.fromEntries(COMPARED_HEADERS.map((h) => [h, a.headers[h]]));
  return {
    continued: a.continued,
    status: a.status,
    headers,
    hasRequestId: a.headers['x-request-id'] !== undefined,
    hasConversationId: a.headers['x-conversation-id'] !== undefined,
    body: masked(a.body),
  };
}

/** The access log lines, without what differs by run (time, ids, the node). */
function accessLines(log: readonly string[]): unknown[] {
  return log.flatMap((line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry['message'] !== 'request') {
      return [];
    }
    const { timestamp: _t, ms: _ms, requestId, ...rest } = entry;
    return [{ ...rest, requestId: typeof requestId === 'string' && requestId !== '' }];
  });
}

/** gk_http_requests_total's lines, without the node label. */
async function requestCounts(app: RunningWorkerApp): Promise<string[]> {
  const text = await app.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('gk_http_requests_total{'))
    .map((l) => l.replace(/,?node="[^"]*"/, ''))
    .sort();
}

async function both(c: Case): Promise<{ fast: RawAnswer; plain: RawAnswer; taken: boolean }> {
  drain.set(c.draining === true);
  const before = fast.app.expressRequests();
  const onFast = await rawExchange(fast.app.url, requestOf(c));
  const taken = fast.app.expressRequests() === before;
  const onPlain = await rawExchange(plain.app.url, requestOf(c));
  drain.set(false);
  return { fast: onFast, plain: onPlain, taken };
}

describe('worker fast path beside express alone', () => {
  it('answers every case as express does, and takes exactly the exact chat POSTs', async () => {
    const statuses = new Set<number>();
    for (const c of CASES) {
      const { fast: f, plain: p, taken } = await both(c);
      expect(comparable(f), c.label).toEqual(comparable(p));
      expect(taken, `${c.label}: taken by the fast path`).toBe(c.fast);
      statuses.add(f.status);
    }
    expect(CASES.length).toBeGreaterThan(300);
    // Each request's access line is after-work, written a few ms after its answer.
    await vi.waitFor(() => {
      expect(accessLines(fast.log)).toHaveLength(CASES.length);
      expect(accessLines(plain.log)).toHaveLength(CASES.length);
    });
    expect(accessLines(fast.log)).toEqual(accessLines(plain.log));
    expect(await requestCounts(fast.app)).toEqual(await requestCounts(plain.app));
    // The table reaches every kind of answer: served, refused before the body and after it.
    for (const s of [200, 400, 401, 404, 413, 503]) {
      expect(statuses, `some case answers ${s}`).toContain(s);
    }
    // ~330 cases, two exchanges each, on a shared machine.
  }, 60_000);
});
