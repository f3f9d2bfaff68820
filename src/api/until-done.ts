/**
 * Reads a generation up to its `done` event. What follows `done` is the queue's bookkeeping (the
 * account records the success, the job completes); the answer need not wait for it, so the rest
 * is drained in the background, once the reply went out.
 */
import { setImmediate as afterThisTurn } from 'node:timers/promises';
import { UpstreamError } from '../errors.ts';
import type { GenerateEvent, GenerateResult } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';

type Delta = Exclude<GenerateEvent, { type: 'done' }>;

/** Calls `onEvent` for each delta and metadata event; resolves with the result of `done`. */
export async function untilDone(
  events: AsyncIterable<GenerateEvent>,
  onEvent: (ev: Delta) => Promise<void> | void,
  logger: Logger,
): Promise<GenerateResult> {
  const it = events[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) {
      throw new UpstreamError('Gemini ended the answer without a result.');
    }
    if (next.value.type === 'done') {
      // Drained in the check phase: even the first read of the rest (a wait for the job's end,
      // with its timer) would otherwise come before the reply this result is for.
      void afterThisTurn().then(() => drain(it, logger));
      return next.value.result;
    }
    await onEvent(next.value);
  }
}

async function drain(it: AsyncIterator<GenerateEvent>, logger: Logger): Promise<void> {
  try {
    while (!(await it.next()).done) {
      // Nothing follows `done` that the client needs.
    }
  } catch (err) {
    logger.debug('after the answer, the generation ended with an error', { err });
  }
}
