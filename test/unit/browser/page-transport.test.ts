import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { createChunkQueue } from '../../../src/browser/chunk-queue.ts';
import { pageHeaders } from '../../../src/browser/page-transport.ts';
import { TabLease } from '../../../src/browser/tab-lease.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of body) {
    out += new TextDecoder().decode(chunk);
  }
  return out;
}

describe('chunk queue', () => {
  it('hands chunks over as they arrive, before the end is known', async () => {
    const q = createChunkQueue(() => undefined);
    const it = q[Symbol.asyncIterator]();
    const first = it.next();
    q.push(bytes('a'));
    expect(new TextDecoder().decode((await first).value as Uint8Array)).toBe('a');
    q.push(bytes('b'));
    q.end();
    expect(new TextDecoder().decode((await it.next()).value as Uint8Array)).toBe('b');
    expect((await it.next()).done).toBe(true);
  });

  it('a cut body yields what came, then throws the cause', async () => {
    const q = createChunkQueue(() => undefined);
    q.push(bytes('partial'));
    q.fail(new Error('cut'));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of q) {
          seen.push(new TextDecoder().decode(chunk));
        }
      })(),
    ).rejects.toThrow('cut');
    expect(seen).toEqual(['partial']);
  });

  it('a reader that leaves early releases the sender once; a finished body does not', async () => {
    let released = 0;
    const q = createChunkQueue(() => (released += 1));
    q.push(bytes('x'));
    for await (const chunk of q) {
      expect(chunk.length).toBe(1);
      break;
    }
    q.release();
    expect(released).toBe(1);
    await q.done;
    const finished = createChunkQueue(() => (released += 1));
    finished.end();
    expect(await readText(finished)).toBe('');
    finished.release();
    expect(released).toBe(1);
  });
});

describe('chunk queue: whenDrained', () => {
  it('waits until the reader took every chunk, and never past the end or a release', async () => {
    const q = createChunkQueue(() => undefined);
    let drained = false;
    q.push(bytes('a'));
    q.push(bytes('b'));
    const waiting = q.whenDrained().then(() => (drained = true));
    const it = q[Symbol.asyncIterator]();
    await it.next();
    await sleep(0);
    expect(drained).toBe(false);
    await it.next();
    await waiting;
    expect(drained).toBe(true);
    q.push(bytes('c'));
    const afterRelease = q.whenDrained();
    q.release();
    await afterRelease;
    await q.whenDrained();
  });
});

describe('tab lease', () => {
  it('a reload waits for the fetches in flight, and new fetches wait for the reload', async () => {
    const lease = new TabLease(10_000);
    const events: string[] = [];
    const hold = await lease.hold();
    const reload = lease.exclusive(async () => {
      events.push('reload');
      await sleep(20);
    });
    await sleep(20);
    expect(events).toEqual([]);
    const later = lease.hold().then((h) => {
      events.push('second hold');
      return h;
    });
    hold.release();
    hold.release();
    await reload;
    (await later).release();
    expect(events).toEqual(['reload', 'second hold']);
    expect(lease.holds).toBe(0);
  });

  it('a hold that is never released delays a reload only up to the bound', async () => {
    vi.useFakeTimers();
    try {
      const lease = new TabLease(50);
      await lease.hold();
      let reloaded = false;
      const reload = lease.exclusive(() => {
        reloaded = true;
        return Promise.resolve();
      });
      await vi.advanceTimersByTimeAsync(49);
      expect(reloaded).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await reload;
      expect(reloaded).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('pageHeaders', () => {
  it('leaves cookies, origin, referer, user agent and sec-* to Chrome', () => {
    expect(
      pageHeaders({
        cookie: 'SID=secret',
        origin: 'https://gemini.google.com',
        referer: 'https://gemini.google.com/',
        'user-agent': 'Mozilla/5.0',
        'Sec-Fetch-Site': 'same-origin',
        'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
        'x-goog-ext-525001261-jspb': '[1]',
        'push-id': 'feeds/x',
      }),
    ).toEqual({
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      'x-goog-ext-525001261-jspb': '[1]',
      'push-id': 'feeds/x',
    });
  });
});
