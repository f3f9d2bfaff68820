/**
 * The waiting side of a job, fed by hand: ordering, the queue wait limit, liveness, aborts.
 */
import { describe, expect, it, vi } from 'vitest';
import { serializeError, RateLimitError } from '../../../src/errors.ts';
import type { GenerateEvent } from '../../../src/gemini/index.ts';
import { ReplyInbox, follow, type FollowHooks } from '../../../src/queue/reply-stream.ts';
import type { JobEvent, ReplyMessage } from '../../../src/queue/wire.ts';

const OPTIONS = { waitMs: 200, runMs: 1000, livenessMs: 50, busyRetryAfterS: 7 };
const text = (delta: string): GenerateEvent => ({ type: 'text', delta });

function hooks(over: Partial<FollowHooks> = {}): FollowHooks {
  return {
    removeIfWaiting: vi.fn(async () => true),
    isGone: vi.fn(async () => false),
    ...over,
  };
}

async function run(
  inbox: ReplyInbox,
  h: FollowHooks,
  signal = new AbortController().signal,
): Promise<{ events: JobEvent[]; error: unknown }> {
  const events: JobEvent[] = [];
  try {
    for await (const e of follow(inbox, signal, OPTIONS, h)) {
      events.push(e);
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

function feed(inbox: ReplyInbox, messages: ReplyMessage[]): void {
  for (const m of messages) {
    inbox.push(m);
  }
}

describe('follow', () => {
  it('yields events in order and ends at `end`', async () => {
    const inbox = new ReplyInbox();
    feed(inbox, [
      { id: 'j', seq: 0, t: 'start' },
      { id: 'j', seq: 1, t: 'event', event: text('a') },
      { id: 'j', seq: 2, t: 'event', event: text('b') },
      { id: 'j', seq: 3, t: 'end' },
    ]);
    const r = await run(inbox, hooks());
    expect(r).toEqual({ events: [text('a'), text('b')], error: undefined });
    expect(inbox).toMatchObject({ started: true, finished: true });
  });

  it('rebuilds a serialized error with its status and Retry-After', async () => {
    const inbox = new ReplyInbox();
    const error = serializeError(
      new RateLimitError('cooling', 42, { code: 'account_cooling_down' }),
    );
    feed(inbox, [
      { id: 'j', seq: 0, t: 'start' },
      { id: 'j', seq: 1, t: 'error', error },
    ]);
    const r = await run(inbox, hooks());
    expect(r.error).toMatchObject({ status: 429, retryAfterS: 42, code: 'account_cooling_down' });
    expect(inbox.finished).toBe(true);
  });

  it('fails on a sequence gap rather than lose text silently', async () => {
    const inbox = new ReplyInbox();
    feed(inbox, [
      { id: 'j', seq: 0, t: 'start' },
      { id: 'j', seq: 2, t: 'event', event: text('b') },
    ]);
    const r = await run(inbox, hooks());
    expect(r.error).toMatchObject({ status: 503, code: 'worker_lost' });
    expect(inbox.finished).toBe(false);
  });

  it('removes a job that waited past waitMs and answers 503 with Retry-After', async () => {
    const inbox = new ReplyInbox();
    const removeIfWaiting = vi.fn(async () => true);
    const r = await run(inbox, hooks({ removeIfWaiting }));
    expect(r.error).toMatchObject({ status: 503, code: 'queue_wait_timeout', retryAfterS: 7 });
    expect(removeIfWaiting).toHaveBeenCalledTimes(1);
    expect(inbox.finished).toBe(true);
  });

  it('keeps following a job that started just as the wait ran out', async () => {
    const inbox = new ReplyInbox();
    const h = hooks({
      removeIfWaiting: vi.fn(async () => {
        setTimeout(() => {
          feed(inbox, [
            { id: 'j', seq: 0, t: 'start' },
            { id: 'j', seq: 1, t: 'event', event: text('late') },
            { id: 'j', seq: 2, t: 'end' },
          ]);
        }, 10);
        return false;
      }),
    });
    const r = await run(inbox, h);
    expect(r).toEqual({ events: [text('late')], error: undefined });
  });

  it('declares the worker lost when its job is gone twice in a row without a last word', async () => {
    const inbox = new ReplyInbox();
    inbox.push({ id: 'j', seq: 0, t: 'start' });
    const isGone = vi.fn(async () => true);
    const r = await run(inbox, hooks({ isGone }));
    expect(r.error).toMatchObject({ status: 503, code: 'worker_lost' });
    expect(isGone).toHaveBeenCalledTimes(2);
  });

  it('turns a failing liveness check (Redis away) into 503', async () => {
    const inbox = new ReplyInbox();
    inbox.push({ id: 'j', seq: 0, t: 'start' });
    const h = hooks({
      isGone: vi.fn(async () => {
        throw new Error('Connection is closed');
      }),
    });
    expect((await run(inbox, h)).error).toMatchObject({ status: 503 });
  });

  it('throws the abort reason when the client leaves', async () => {
    const inbox = new ReplyInbox();
    inbox.push({ id: 'j', seq: 0, t: 'start' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('client gone')), 20);
    const r = await run(inbox, hooks(), ac.signal);
    expect(r.error).toMatchObject({ message: 'client gone' });
  });

  it('ends with the failure given to the inbox (queue closing)', async () => {
    const inbox = new ReplyInbox();
    setTimeout(() => inbox.fail(new Error('shutting down')), 10);
    expect((await run(inbox, hooks())).error).toMatchObject({ message: 'shutting down' });
  });
});
