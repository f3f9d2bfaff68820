/**
 * The processor's rpc job (discovery's otAQ7b in the account's line) with a recording publisher
 * (Redis stands in) and a scripted batchexecute call (Google stands in): its replies, that it is
 * not a request in flight and holds no slot, and what its failures do to the account.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { AccountState, type CallRpc } from '../../../src/account/index.ts';
import { GeminiError } from '../../../src/gemini/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { CancelRegistry } from '../../../src/queue/cancel-registry.ts';
import { createProcessor } from '../../../src/queue/job-processor.ts';
import { decodeReply, type QueueJobData, type ReplyMessage } from '../../../src/queue/wire.ts';
import { tempDataDir } from '../account/fakes.ts';

async function setup(rpc: CallRpc, clock = { t: 1_000_000 }) {
  const account = await AccountState.open({
    account: 'rpc@example.com',
    dataDir: tempDataDir(),
    cooldown: { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 },
    syncIntervalMs: 0,
    now: () => clock.t,
  });
  const sent: ReplyMessage[] = [];
  const publisher = {
    publish(_channel: string, raw: string) {
      sent.push(decodeReply(raw) as ReplyMessage);
      return Promise.resolve(1);
    },
  } as unknown as Redis;
  const cancels = new CancelRegistry();
  const released: string[] = [];
  const processor = createProcessor({
    publisher,
    guard: { account, generate: () => Promise.reject(new Error('no chat here')) as never },
    cancels,
    requestTimeoutMs: 5000,
    logger: createLogger({ silent: true }),
    releaseSlot: (id) => Promise.resolve(void released.push(id)),
    rpc,
  });
  const data: QueueJobData = {
    rpc: { requestId: 'rpc-1', rpcId: 'otAQ7b', payload: [] },
    replyTo: 'reply-chan',
  };
  const run = () => processor({ id: 'job-1', data } as Job<QueueJobData>);
  return { run, sent, account, cancels, released, clock };
}

function recordingRpc(answer: () => Promise<unknown>) {
  const calls: string[] = [];
  const rpc: CallRpc = (rpcId) => {
    calls.push(rpcId);
    return answer();
  };
  return { rpc, calls };
}

describe('rpc job', () => {
  it('replies start, one rpc_result with the payload, and end; no slot, not in flight', async () => {
    let inFlight = -1;
    const t = await setup((rpcId, payload) => {
      inFlight = t.cancels.size;
      return Promise.resolve({ rpcId, payload });
    });
    await t.run();
    expect(t.sent.map((m) => [m.seq, m.t])).toEqual([
      [0, 'start'],
      [1, 'event'],
      [2, 'end'],
    ]);
    expect(t.sent[1]).toMatchObject({
      event: { type: 'rpc_result', payload: { rpcId: 'otAQ7b', payload: [] } },
    });
    expect(inFlight).toBe(0);
    expect(t.released).toEqual([]);
  });

  it('is skipped while the account cools down: 429 and no call upstream', async () => {
    const up = recordingRpc(() => Promise.resolve([]));
    const t = await setup(up.rpc);
    await t.account.coolDown('quota');
    await t.run();
    expect(up.calls).toEqual([]);
    expect(t.sent.map((m) => m.t)).toEqual(['start', 'error']);
    expect(t.sent[1]).toMatchObject({ error: { status: 429, upstreamSent: false } });
  });

  it('never takes the half-open probe: the cooldown stays for a chat to end', async () => {
    const up = recordingRpc(() => Promise.resolve([]));
    const t = await setup(up.rpc);
    await t.account.coolDown('transient');
    t.clock.t += 5000;
    expect(t.account.snapshot().phase).toBe('half_open');
    await t.run();
    expect(up.calls).toEqual([]);
    expect(t.sent[1]).toMatchObject({ error: { status: 429, code: 'account_probing' } });
    expect(t.account.snapshot().phase).toBe('half_open');
    await expect(t.account.admit()).resolves.toMatchObject({ probe: true });
  });

  it('a 429 on the call cools the account as a chat would', async () => {
    const t = await setup(() =>
      Promise.reject(new GeminiError('quota', 'batchexecute: HTTP 429', { httpStatus: 429 })),
    );
    await t.run();
    expect(t.account.snapshot()).toMatchObject({ phase: 'cooling', cooldown: { reason: 'quota' } });
    expect(t.sent.at(-1)).toMatchObject({ t: 'error', error: { status: 429 } });
  });

  it('a signed-out session marks the account login_required', async () => {
    const t = await setup(() => Promise.reject(new GeminiError('auth', 'signed out')));
    await t.run();
    expect(t.account.snapshot().phase).toBe('login_required');
  });

  it('a transient failure leaves the account alone and reports the error', async () => {
    const t = await setup(() => Promise.reject(new GeminiError('transient', 'HTTP 500')));
    await t.run();
    expect(t.account.snapshot().phase).toBe('ready');
    expect(t.sent.at(-1)).toMatchObject({ t: 'error', error: { message: 'HTTP 500' } });
  });

  it('fails clearly on a queue built without an rpc function', async () => {
    const t = await setup(undefined as unknown as CallRpc);
    await t.run();
    expect(t.sent.at(-1)).toMatchObject({ t: 'error', error: { status: 500 } });
  });
});
