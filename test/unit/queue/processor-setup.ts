/**
 * The processor's test bed: a recording publisher (Redis stands in), a real AccountState and a
 * scripted upstream.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AccountState } from '../../../src/account/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { CancelRegistry } from '../../../src/queue/cancel-registry.ts';
import { createProcessor } from '../../../src/queue/job-processor.ts';
import { decodeReply, type ChatJobData, type ReplyMessage } from '../../../src/queue/wire.ts';
import { MODEL, scriptedGenerate, tempDataDir, type ScriptedCall } from '../account/fakes.ts';

/** A Redis stand-in that records what is published, failing after `failAfter` messages. */
export function publisher(failAfter = Infinity) {
  const sent: { channel: string; message: ReplyMessage }[] = [];
  const fake = {
    async publish(channel: string, raw: string) {
      if (sent.length >= failAfter) {
        throw new Error('Connection is closed');
      }
      sent.push({ channel, message: decodeReply(raw) as ReplyMessage });
      return 1;
    },
  };
  return { redis: fake as unknown as Redis, sent };
}

/** A processor over a fresh account whose upstream plays `script`. */
export async function setup(
  script: ScriptedCall[],
  opts: {
    failAfter?: number;
    timeoutMs?: number;
    deliverLocally?: (replyTo: string, message: ReplyMessage) => boolean;
  } = {},
) {
  const account = await AccountState.open({
    account: 'p@example.com',
    dataDir: tempDataDir(),
    cooldown: { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 },
    syncIntervalMs: 0,
  });
  const upstream = scriptedGenerate(script);
  const pub = publisher(opts.failAfter);
  const cancels = new CancelRegistry();
  const processor = createProcessor({
    publisher: pub.redis,
    guard: { account, generate: upstream.generate },
    cancels,
    requestTimeoutMs: opts.timeoutMs ?? 5000,
    logger: createLogger({ silent: true }),
    ...(opts.deliverLocally ? { deliverLocally: opts.deliverLocally } : {}),
  });
  const data: ChatJobData = {
    job: { requestId: 'r', model: MODEL, prompt: 'hi', inputs: [], chat: null, replayPrompt: null },
    replyTo: 'reply-chan',
  };
  const run = (id = 'job-1') => processor({ id, data } as Job<ChatJobData>);
  return { run, processor, data, sent: pub.sent, upstream, cancels, account };
}
