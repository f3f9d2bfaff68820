/**
 * Loaded into a bench worker with `--import` (`npm run bench -- latency --timeline`). For every
 * POST served while no other request is in flight, it stamps the steps of the request's way, in
 * ms from the server's `request` event: the body's end, the line claim's EVALSHA sent and
 * answered, the upstream request created, its headers sent, its response headers and its end,
 * the response's end() (its last write) and its `finish` event. The stamps come from `diagnostics_channel` (node:http, undici) and a
 * wrap of ioredis's sendCommand, so the worker's code is untouched. Each row says whether the
 * answer was streamed (`streamed`: 1 for an event stream), and the request that finished last
 * keeps its stamps until the next one starts, so work after the answer shows too. Rows go to
 * `<BENCH_TIMELINE_OUT>.json` when the process exits.
 */
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

/** One request's stamps, in ms from its `request` event. */
export type TimelineRow = Record<string, number>;

const out = process.env['BENCH_TIMELINE_OUT'];
const rows: TimelineRow[] = [];
let inFlight = 0;
/** The only request in flight (the stamps of shared steps are its own), or null. */
let current: { start: number; row: TimelineRow; response: ServerResponse } | null = null;
/** The request that finished last, until the next one starts: its after-work is stamped too. */
let finished: { start: number; row: TimelineRow } | null = null;

function stamp(step: string): void {
  const of = current ?? finished;
  if (of && (of.row[step] === undefined || step.startsWith('~'))) {
    of.row[step] = performance.now() - of.start;
  }
}

// Temporary stamps in the worker's own code (/work/wt/timeline-stamps.patch) call this. A step
// named `~…` keeps its last time, not its first.
(globalThis as { __tl?: (step: string) => void }).__tl = stamp;
dc.subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  if (request.method !== 'POST') {
    return;
  }
  inFlight += 1;
  // A request that overlaps another is left out: its steps could not be told apart.
  current = inFlight === 1 ? { start: performance.now(), row: {}, response } : null;
  finished = null;
  const mine = current;
  request.once('end', () => mine === current && stamp('bodyEnd'));
});
dc.subscribe('http.server.response.finish', (message) => {
  if (inFlight === 0) {
    return;
  }
  inFlight -= 1;
  if (current) {
    stamp('finish');
    const { response } = message as { response: { getHeader(name: string): unknown } };
    current.row['streamed'] = String(response.getHeader('content-type')).includes('event-stream')
      ? 1
      : 0;
    rows.push(current.row);
  }
  finished = current;
  current = null;
});
// The answer's last bytes leave in end(); its 'finish' event comes only after whatever work was
// queued behind that call (the job's end, the after-work), so it overstates the answer's tail.
// eslint-disable-next-line @typescript-eslint/unbound-method -- called below with its own `this`
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
  const ended = (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  if (current?.response === this) {
    stamp('ended');
  }
  return ended;
} as typeof end;
dc.subscribe('undici:request:create', () => stamp('upstreamCreated'));
dc.subscribe('undici:client:sendHeaders', () => stamp('upstreamSent'));
dc.subscribe('undici:request:headers', () => stamp('upstreamHeaders'));
dc.subscribe('undici:request:trailers', () => stamp('upstreamEnd'));

interface RedisCommand {
  readonly name: string;
  readonly promise: Promise<unknown>;
}

// The worker's own ioredis (the one in its checkout), wrapped: the first EVALSHA of a request is
// its line claim.
try {
  const require = createRequire(path.join(process.cwd(), 'package.json'));
  const { default: Redis } = require('ioredis') as {
    default: { prototype: { sendCommand: (cmd: RedisCommand, ...rest: unknown[]) => unknown } };
  };
  const send = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: unknown, cmd: RedisCommand, ...rest: unknown[]) {
    if (current && cmd.name === 'evalsha' && current.row['claimSent'] === undefined) {
      stamp('claimSent');
      const mine = current;
      cmd.promise.then(
        () => mine === current && stamp('claimAnswered'),
        () => undefined,
      );
    }
    return send.call(this, cmd, ...rest);
  };
} catch {
  // No ioredis where the worker runs: the claim's steps are left out.
}

process.once('exit', () => {
  if (out) {
    fs.writeFileSync(`${out}.json`, JSON.stringify(rows));
  }
});
