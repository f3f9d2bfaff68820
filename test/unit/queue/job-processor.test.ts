/**
 * The processor with a recording publisher (Redis stands in) and a scripted upstream.
 */
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { AccountGuard } from '../../../src/account/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { CancelRegistry } from '../../../src/queue/cancel-registry.ts';
import { createProcessor } from '../../../src/queue/job-processor.ts';
import type { ChatJobData, ReplyMessage } from '../../../src/queue/wire.ts';
import { MODEL, done, scriptedGenerate, text } from '../account/fakes.ts';
import { publisher, setup } from './processor-setup.ts';

describe('job processor', () => {
  it('publishes start, each event and end, numbered, on the reply channel', async () => {
    const t = await setup([{ events: [text('a'), done('a')] }]);
    await t.run();
    expect(t.sent.map((s) => s.channel)).toEqual(Array(4).fill('reply-chan'));
    expect(t.sent.map((s) => [s.message.seq, s.message.t])).toEqual([
      [0, 'start'],
      [1, 'event'],
      [2, 'event'],
      [3, 'end'],
    ]);
    expect(t.sent.every((s) => s.message.id === 'job-1')).toBe(true);
  });

  it('hands replies over in memory when the stream waits here; publishes when it waits elsewhere', async () => {
    const local: ReplyMessage[] = [];
    const here = await setup([{ events: [text('a'), done('a')] }], {
      deliverLocally: (replyTo, message) => replyTo === 'reply-chan' && local.push(message) > 0,
    });
    await here.run();
    expect(here.sent).toEqual([]);
    expect(local.map((m) => [m.seq, m.t])).toEqual([
      [0, 'start'],
      [1, 'event'],
      [2, 'event'],
      [3, 'end'],
    ]);
    const elsewhere = await setup([{ events: [text('a'), done('a')] }], {
      deliverLocally: (replyTo) => replyTo === 'another-process',
    });
    await elsewhere.run();
    expect(elsewhere.sent.map((s) => s.message.t)).toEqual(['start', 'event', 'event', 'end']);
  });

  it('after done, the job finishes only in the check phase: the waiting reply goes out first', async () => {
    const local: ReplyMessage[] = [];
    let beforeCheckPhase: string[] | null = null;
    // An account without I/O: without the pause, the job's end would follow done in microtasks.
    const account: AccountGuard = {
      admit: () => Promise.resolve({ probe: false, token: null }),
      recordSuccess: () => Promise.resolve(),
      coolDown: () => Promise.resolve(0),
      markLoginRequired: () => Promise.resolve(0),
      release: () => Promise.resolve(),
    };
    const processor = createProcessor({
      publisher: publisher().redis,
      guard: { account, generate: scriptedGenerate([{ events: [text('a'), done('a')] }]).generate },
      cancels: new CancelRegistry(),
      requestTimeoutMs: 5000,
      logger: createLogger({ silent: true }),
      deliverLocally: (_replyTo, message) => {
        local.push(message);
        if (message.t === 'event' && message.event.type === 'done') {
          const from = local.length;
          setImmediate(() => (beforeCheckPhase = local.slice(from).map((m) => m.t)));
        }
        return true;
      },
    });
    const data: ChatJobData = {
      job: {
        requestId: 'r',
        model: MODEL,
        prompt: 'hi',
        inputs: [],
        chat: null,
        replayPrompt: null,
      },
      replyTo: 'reply-chan',
    };
    await processor({ id: 'job-1', data } as Job<ChatJobData>);
    expect(beforeCheckPhase).toEqual([]);
    expect(local.map((m) => m.t)).toEqual(['start', 'event', 'event', 'end']);
  });

  it('a job claimed in process takes the admission read beside its claim; its end follows its last reply', async () => {
    const t = await setup([{ events: [text('a'), done('a')] }]);
    const admission = t.account.admit();
    let admits = 0;
    const admit = t.account.admit.bind(t.account);
    t.account.admit = () => {
      admits += 1;
      return admit();
    };
    const order: string[] = [];
    await t.processor({ id: 'job-1', data: t.data } as Job<ChatJobData>, 'tok', undefined, {
      admission,
      marked: true,
      afterLastWord: () => order.push(`end in BullMQ after ${t.sent.length} replies`),
    });
    expect(admits).toBe(0);
    expect(t.upstream.calls).toHaveLength(1);
    expect(order).toEqual(['end in BullMQ after 4 replies']);
    expect(t.sent.map((s) => s.message.t)).toEqual(['start', 'event', 'event', 'end']);
  });

  it('a job claimed in process whose admission refuses never goes upstream', async () => {
    const t = await setup([{ events: [done('x')] }]);
    await t.account.coolDown('quota');
    const admission = t.account.admit();
    admission.catch(() => undefined);
    await t.processor({ id: 'job-1', data: t.data } as Job<ChatJobData>, 'tok', undefined, {
      admission,
      marked: true,
    });
    expect(t.upstream.calls).toHaveLength(0);
    expect(t.sent.at(-1)?.message).toMatchObject({ t: 'error', error: { status: 429 } });
  });

  it('publishes a failure as a serialized error', async () => {
    const t = await setup([{ fail: 'model' }]);
    await t.run();
    const last = t.sent.at(-1)?.message;
    expect(last).toMatchObject({
      t: 'error',
      error: { status: 400, code: 'model_not_supported', param: 'model', name: 'GeminiError' },
    });
  });

  it('does not run a job cancelled before it started', async () => {
    const t = await setup([{ events: [done('x')] }]);
    t.cancels.cancel('job-1');
    await t.run();
    expect(t.sent).toEqual([]);
    expect(t.upstream.calls).toHaveLength(0);
  });

  it('aborts the upstream call on a cancel message and publishes nothing more', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const t = await setup([{ events: [text('a')], hold }]);
    const running = t.run();
    await new Promise((r) => setTimeout(r, 20));
    t.cancels.cancel('job-1');
    expect(t.upstream.calls[0]?.signal?.aborted).toBe(true);
    release();
    await running;
    expect(t.sent.map((s) => s.message.t)).toEqual(['start', 'event']);
    expect(t.cancels.size).toBe(0);
  });

  it('stops a job at the request timeout with a 504, even if upstream ignores its signal', async () => {
    const never = new Promise<void>(() => undefined);
    const t = await setup([{ events: [text('a')], hold: never }], { timeoutMs: 50 });
    await t.run();
    expect(t.upstream.calls[0]?.signal?.aborted).toBe(true);
    expect(t.sent.map((s) => s.message.t)).toEqual(['start', 'event', 'error']);
    expect(t.sent.at(-1)?.message).toMatchObject({ error: { status: 504, type: 'timeout' } });
    expect(t.cancels.size).toBe(0);
  });

  it('aborts the upstream call when it can no longer publish (Redis away)', async () => {
    const t = await setup([{ events: [text('a'), text('b'), done('ab')] }], { failAfter: 2 });
    await t.run();
    expect(t.upstream.calls[0]?.signal?.aborted).toBe(true);
    expect(t.sent.map((s) => s.message.t)).toEqual(['start', 'event']);
  });
});
