/**
 * A job started beside its line claim, before the claim answered (LocalRuns.startEarly): it may
 * prepare its request, but reaches neither Google nor its client until the claim made the line
 * this process's, and says nothing at all when the claim queued the job instead.
 */
import type { Job } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Admission } from '../../../src/account/index.ts';
import { ServiceUnavailableError } from '../../../src/errors.ts';
import { CancelRegistry } from '../../../src/queue/cancel-registry.ts';
import { heldUntil, type ReplyBody } from '../../../src/queue/reply-sender.ts';
import type { ChatJobData } from '../../../src/queue/wire.ts';
import { done, text } from '../account/fakes.ts';
import { deferred } from '../support/deferred.ts';
import { setup } from './processor-setup.ts';

/** Runs job-1 as an early run whose claim answers when the test says. */
async function earlyRun(script: Parameters<typeof setup>[0]) {
  const t = await setup(script);
  const claim = deferred<boolean>();
  const admission: Promise<Admission> = claim.promise.then((mine) =>
    mine ? t.account.admit() : Promise.reject(new ServiceUnavailableError('line busy', 1)),
  );
  admission.catch(() => undefined);
  const ends: number[] = [];
  const ran = t.processor({ id: 'job-1', data: t.data } as Job<ChatJobData>, 'tok', undefined, {
    admission,
    marked: true,
    claimed: claim.promise,
    afterLastWord: () => ends.push(t.sent.length),
  });
  await sleep(5);
  return { ...t, claim, ran, ends };
}

describe('an early run', () => {
  it('prepares its request but says nothing before its claim answers', async () => {
    const t = await earlyRun([{ events: [text('a'), done('a')] }]);
    expect(t.upstream.made()).toBe(1);
    expect(t.upstream.calls).toHaveLength(0);
    expect(t.sent).toEqual([]);
    expect(t.cancels.size).toBe(1);
    t.claim.resolve(true);
    await t.ran;
    expect(t.sent.map((s) => [s.message.seq, s.message.t])).toEqual([
      [0, 'start'],
      [1, 'event'],
      [2, 'event'],
      [3, 'end'],
    ]);
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.ends).toEqual([4]);
  });

  it('whose claim queued the job ends without a word: no reply, no send, no end in BullMQ', async () => {
    const t = await earlyRun([{ events: [text('a'), done('a')] }]);
    t.claim.resolve(false);
    await t.ran;
    expect(t.sent).toEqual([]);
    expect(t.upstream.calls).toHaveLength(0);
    expect(t.ends).toEqual([]);
    expect(t.cancels.size).toBe(0);
  });
});

describe('heldUntil', () => {
  const body = (t: 'start' | 'end'): ReplyBody => ({ t });

  /** A held sender whose gate the test opens, and what it sent. */
  function recorded() {
    const go = deferred<boolean>();
    const out: string[] = [];
    const send = heldUntil(go.promise, (b) => {
      out.push(b.t);
      return Promise.resolve();
    });
    return { go, out, send };
  }

  it('sends the held replies in order, before any sent after the gate opened', async () => {
    const { go, out, send } = recorded();
    void send(body('start'));
    void send({ t: 'event', event: text('a') });
    // Runs as soon as the gate opens, before the held replies' turn: it must still come last.
    void go.promise.then(() => send(body('end')));
    go.resolve(true);
    await sleep(1);
    expect(out).toEqual(['start', 'event', 'end']);
    void send(body('end'));
    expect(out).toHaveLength(4); // once open and drained, a reply goes out at once
  });

  it('drops every reply when the gate says the job is not this run’s', async () => {
    const { go, out, send } = recorded();
    const held = send(body('start'));
    go.resolve(false);
    await held;
    await send(body('end'));
    expect(out).toEqual([]);
  });
});

describe('CancelRegistry', () => {
  it("a run that ends after another took its id leaves the other's registration", () => {
    const cancels = new CancelRegistry();
    const early = new AbortController();
    const untrackEarly = cancels.register('job-1', early);
    const taken = new AbortController();
    cancels.register('job-1', taken);
    untrackEarly();
    expect(cancels.size).toBe(1);
    cancels.cancel('job-1');
    expect(taken.signal.aborted).toBe(true);
  });
});
