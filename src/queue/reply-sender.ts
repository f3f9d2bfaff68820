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

/**
 * `send`, holding every reply until `go` resolves: then the held replies go out in order if it
 * resolved true, and none ever does if false (a run started before its claim answered, whose
 * job the claim queued: the run that takes it from BullMQ answers instead). No `go`: `send`.
 */
export function heldUntil(
  go: Promise<boolean> | undefined,
  send: (body: ReplyBody) => Promise<void>,
): (body: ReplyBody) => Promise<void> {
  if (!go) {
    return send;
  }
  let open: boolean | null = null;
  let held = 0;
  let tail: Promise<unknown> = go.then(
    (mine) => (open = mine),
    () => (open = false),
  );
  return (body) => {
    if (open === true && held === 0) {
      return send(body);
    }
    if (open === false) {
      return Promise.resolve();
    }
    // Queued behind the replies held before it, so that they all keep their order.
    held += 1;
    const sent = tail.then(() => {
      held -= 1;
      return open === true ? send(body) : undefined;
    });
    tail = sent.catch(() => undefined);
    return sent;
  };
}
