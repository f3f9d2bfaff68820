/**
 * The terminal error handler when the client has gone: the abort its leaving caused is not an
 * "unhandled error", but any other failure still is.
 */
import express from 'express';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { deferred } from '../support/deferred.ts';

const sink = new PassThrough();
const lines: { level: string; message: string }[] = [];
sink.on('data', (chunk: Buffer) => {
  for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
    lines.push(JSON.parse(line) as { level: string; message: string });
  }
});
let server: http.Server;
let port: number;
let handled = deferred();

beforeAll(async () => {
  const app = express();
  // Each route fails once its client has left: with the abort that caused, or with a bug.
  const failOnLeave =
    (failure: (abortReason: unknown) => unknown): express.RequestHandler =>
    (_req, res, next) => {
      const abort = new AbortController();
      res.on('close', () => {
        abort.abort();
        next(failure(abort.signal.reason));
        setImmediate(() => handled.resolve());
      });
    };
  app.post(
    '/aborted',
    failOnLeave((reason) => reason),
  );
  app.post(
    '/broken',
    failOnLeave(() => new TypeError('a bug after the client left')),
  );
  app.use(errorHandler(createLogger({ stream: sink })));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(() => server.close());

/** Posts to `path` and hangs up before any answer; resolves once the route has failed. */
async function leave(path: string): Promise<void> {
  handled = deferred();
  lines.length = 0;
  const req = http.request({ host: '127.0.0.1', port, path, method: 'POST' });
  req.on('error', () => undefined);
  req.end('{}');
  setTimeout(() => req.destroy(), 30);
  await handled.promise;
  await new Promise((resolve) => setImmediate(resolve));
}

describe('errorHandler after the client left', () => {
  it('logs no error for the abort the leaving caused', async () => {
    await leave('/aborted');
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('still logs any other failure as an error', async () => {
    await leave('/broken');
    expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'unhandled error',
    ]);
  });
});
