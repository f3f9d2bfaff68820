/**
 * How a running job answers the process that waits for it: numbered replies, handed over in
 * memory when that process is this one, else published on its reply channel.
 */
import type { Redis } from 'ioredis';
import { encodeReply, type ReplyMessage } from './wire.ts';

/** A reply before the sender numbers it. */
export type ReplyBody = ReplyMessage extends infer M
  ? M extends unknown
    ? Omit<M, 'id' | 'seq'>
    : never
  : never;

/** Where replies go: the publisher, and the in-memory shortcut (see ChatQueue.deliverLocally). */
export interface ReplyRoute {
  readonly publisher: Redis;
  readonly deliverLocally?: (replyTo: string, message: ReplyMessage) => boolean;
}

/**
 * The job's reply function. Replies go out in order on one connection without waiting for each:
 * the first failure stops the job, and awaiting the last one covers the rest. Every reply of a
 * job takes the same way, so a local stream sees them in order too.
 */
export function replySender(
  id: string,
  replyTo: string,
  controller: AbortController,
  deps: ReplyRoute,
): (body: ReplyBody) => Promise<void> {
  let seq = 0;
  return (body) => {
    const message = { id, seq: seq++, ...body } as ReplyMessage;
    if (deps.deliverLocally?.(replyTo, message)) {
      return Promise.resolve();
    }
    const sent = deps.publisher.publish(replyTo, encodeReply(message)).then(() => undefined);
    sent.catch((err: unknown) => controller.abort(err));
    return sent;
  };
}
