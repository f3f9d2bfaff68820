/**
 * The stream writer's socket writes: frames made in one turn of the event loop leave in one
 * write, the end joins what is held, and no frame is held past its turn.
 */
import type { Response } from 'express';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SseWriter } from '../../../src/api/sse.ts';

interface Served {
  /** How many times the server's socket wrote (each a system call). */
  writes(): number;
  /** Reads the body until it contains `text`; returns all read so far. */
  readUntil(text: string): Promise<string>;
}

const servers: http.Server[] = [];
const tick = () => new Promise((r) => process.nextTick(r));

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Serves one request with `reply` and counts the socket's writes while it replies. */
async function serve(reply: (sse: SseWriter) => Promise<void>): Promise<Served> {
  let writes = 0;
  const server = http.createServer((_req, res) => {
    const socket = res.socket as Socket & Record<'_write' | '_writev', (...a: unknown[]) => void>;
    for (const name of ['_write', '_writev'] as const) {
      const original = socket[name].bind(socket);
      socket[name] = (...args: unknown[]) => {
        writes += 1;
        original(...args);
      };
    }
    void reply(new SseWriter(res as unknown as Response));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/`);
  const chunks = (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  let read = '';
  return {
    writes: () => writes,
    readUntil: async (text) => {
      while (!read.includes(text)) {
        const r = await chunks.next();
        if (r.done) {
          break;
        }
        read += decoder.decode(r.value, { stream: true });
      }
      return read;
    },
  };
}

describe('SseWriter writes', () => {
  it('sends the headers and the frames of one turn in one write, the end with them', async () => {
    const served = await serve(async (sse) => {
      sse.start();
      // Ticks apart, as the frames of one upstream read are (streams hand data on in ticks).
      await sse.send({ n: 1 });
      await tick();
      await sse.send({ n: 2 });
      await tick();
      await sse.send({ n: 3 });
      await tick();
      await sse.done();
    });
    expect(await served.readUntil('[DONE]')).toBe(
      'data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n',
    );
    expect(served.writes()).toBe(1);
  });

  it('lets each turn go out at its end, without waiting for a later frame or the end', async () => {
    let release = (): void => undefined;
    const later = new Promise<void>((r) => (release = r));
    const served = await serve(async (sse) => {
      sse.start();
      await sse.send({ n: 1 });
      await nextTurn();
      await sse.send({ n: 2 });
      // Held open until the client saw the frames: a held frame would never arrive.
      await later;
      await sse.done();
    });
    // Hangs (the test times out) if a frame waits for a later one or for the end.
    expect(await served.readUntil('"n":2')).toBe('data: {"n":1}\n\ndata: {"n":2}\n\n');
    release();
    expect(await served.readUntil('[DONE]')).toBe(
      'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n',
    );
    expect(served.writes()).toBe(3);
  });
});
