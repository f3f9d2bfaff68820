/**
 * The processor's path for an rpc job (a batchexecute call such as discovery's otAQ7b): it runs in
 * the account's line like a chat, so it never overlaps a generation, and answers with one
 * `rpc_result` event. No sent mark: a status read may be repeated without harm.
 */
import { randomUUID } from 'node:crypto';
import { runGuardedRpc, type CallRpc, type GuardDeps } from '../account/index.ts';
import { AppError, serializeError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { replySender, type ReplyRoute } from './reply-sender.ts';
import type { JobEvent, RpcJob, RpcJobData } from './wire.ts';

/** What an rpc job needs of the processor's dependencies. */
export interface RpcJobDeps extends ReplyRoute {
  readonly guard: Pick<GuardDeps, 'account'>;
  readonly rpc?: CallRpc;
  readonly logger: Logger;
}

/** Runs one rpc job and replies with its result or its error; never throws. */
export async function runRpcJob(
  id: string,
  data: RpcJobData,
  controller: AbortController,
  deps: RpcJobDeps,
): Promise<void> {
  const send = replySender(id, data.replyTo, controller, deps);
  if (controller.signal.aborted) {
    return;
  }
  const { rpc } = deps;
  try {
    void send({ t: 'start' });
    if (!rpc) {
      throw new Error('This queue cannot run rpc jobs (no rpc function was given).');
    }
    const call = { rpcId: data.rpc.rpcId, payload: data.rpc.payload };
    const payload = await runGuardedRpc(
      call,
      { account: deps.guard.account, rpc },
      controller.signal,
    );
    controller.signal.throwIfAborted();
    void send({ t: 'event', event: { type: 'rpc_result', payload } });
    await send({ t: 'end' });
  } catch (err) {
    const reason: unknown = controller.signal.reason;
    controller.abort(err);
    const reported = reason instanceof AppError ? reason : err;
    if (!(reported instanceof AppError)) {
      deps.logger.warn('rpc job failed', {
        jobId: id,
        requestId: data.rpc.requestId,
        rpcId: data.rpc.rpcId,
        error: reported instanceof Error ? reported.message : String(reported),
      });
    }
    // Never "sent": a status read is not a prompt. After a cancel nobody listens; one publish.
    await send({ t: 'error', error: serializeError(reported, { upstreamSent: false }) }).catch(
      () => undefined,
    );
  }
}

/** The payload of an rpc job's events (the waiting side). */
export async function rpcResultOf(
  events: AsyncIterable<JobEvent>,
  rpcId: string,
): Promise<unknown> {
  for await (const event of events) {
    if (event.type === 'rpc_result') {
      return event.payload;
    }
  }
  throw new Error(`The ${rpcId} job ended without a result.`);
}

/** The data of an rpc job whose answer goes to `replyTo`. */
export function rpcJobData(rpc: Omit<RpcJob, 'requestId'>, replyTo: string): RpcJobData {
  return { rpc: { ...rpc, requestId: `rpc-${randomUUID()}` }, replyTo };
}
