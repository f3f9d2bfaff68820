/**
 * UpstreamBody, the relay's body without a stream: chunks held until a reader takes them, undici's
 * parser paused while too much is held or the client is full, the capped read of an error body,
 * and the relay to a real node:http response.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamBody } from '../../../src/gateway/upstream-body.ts';

function body(): { body: UpstreamBody; aborts: Error[]; resumes: () => number } {
  const aborts: Error[] = [];
  let resumed = 0;
  const b = new UpstreamBody(
    (reason) => aborts.push(reason),
    () => (resumed += 1),
  );
  return { body: b, aborts, resumes: () => resumed };
}

describe('UpstreamBody: read whole', () => {
  it('hands chunks held before the read, then the end, to readCapped', async () => {
    const { body: b, aborts } = body();
    expect(b.push(Buffer.from('{"error":'))).toBe(true);
    b.push(Buffer.from('"x"}'));
    b.end();
    expect((await b.readCapped(1024))?.toString()).toBe('{"error":"x"}');
    expect(aborts).toEqual([]);
  });

  it('pauses the parser past 64 KiB held and resumes it once the body is taken', async () => {
    const { body: b, resumes } = body();
    expect(b.push(Buffer.alloc(40 * 1024))).toBe(true);
    expect(b.push(Buffer.alloc(40 * 1024))).toBe(false);
    const whole = b.readCapped(1024 * 1024);
    expect(resumes()).toBe(1);
    b.end();
    expect((await whole)?.length).toBe(80 * 1024);
  });

  it('gives null and aborts the upstream once the body passes the cap', async () => {
    const { body: b, aborts } = body();
    const read = b.readCapped(10);
    expect(b.push(Buffer.alloc(8))).toBe(true);
    expect(b.push(Buffer.alloc(8))).toBe(false);
    expect(await read).toBeNull();
    expect(aborts).toHaveLength(1);
  });

  it('gives null when the upstream fails mid-body', async () => {
    const { body: b } = body();
    b.push(Buffer.from('partial'));
    b.fail();
    expect(await b.readCapped(1024)).toBeNull();
  });

  it('is read once', async () => {
    const { body: b } = body();
    void b.readCapped(10);
    await expect(b.readCapped(10)).rejects.toThrow(/read once/);
  });
});

let server: http.Server | null = null;
afterEach(() => server?.close());

/** A server whose one response is relayed from `b`; resolves to the relay's end and the text. */
async function relayThrough(
  b: UpstreamBody,
  feed: () => void,
): Promise<{ end: string; text: string; seen: string[] }> {
  const seen: string[] = [];
  let relayEnd: Promise<string> = Promise.resolve('');
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    relayEnd = b.relayTo(res, (chunk) => seen.push(chunk.toString()));
    feed();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const text = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
  return { end: await relayEnd, text, seen };
}

describe('UpstreamBody: relay', () => {
  it('sends a body that was whole before the relay took it, and the tap sees each chunk', async () => {
    const { body: b } = body();
    b.push(Buffer.from('held '));
    b.push(Buffer.from('answer'));
    b.end();
    const out = await relayThrough(b, () => {});
    expect(out).toEqual({ end: 'done', text: 'held answer', seen: ['held ', 'answer'] });
  });

  it('relays chunks that come after it took the body, then ends on the upstream end', async () => {
    const { body: b } = body();
    b.push(Buffer.from('first '));
    const out = await relayThrough(b, () => {
      setTimeout(() => {
        b.push(Buffer.from('second'));
        b.end();
      }, 5);
    });
    expect(out).toEqual({ end: 'done', text: 'first second', seen: ['first ', 'second'] });
  });

  it('reports an upstream failure mid-body without ending the response', async () => {
    const { body: b } = body();
    let relayEnd: Promise<string> = Promise.resolve('');
    server = http.createServer((_req, res) => {
      res.writeHead(200);
      relayEnd = b.relayTo(res, () => {});
      b.push(Buffer.from('cut'));
      b.fail();
      void relayEnd.then(() => res.end(' tail'));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const text = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    expect(await relayEnd).toBe('upstream_error');
    expect(text).toBe('cut tail');
  });
});
