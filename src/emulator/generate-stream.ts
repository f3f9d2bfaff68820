/**
 * Writes one StreamGenerate answer: with `rt=c`, cumulative snapshot frames every chunkDelayMs
 * with metadata frames in between, the final candidate, bookkeeping and the `e` trailer; without
 * it, one JSON line. The stall, drop and error_after_answer faults bend this sequence.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { snapshotCount, snapshots, type AnswerPlan } from './answer.ts';
import type { Chat } from './chats.ts';
import {
  bookkeepingEnvelopes,
  encodeUnframed,
  FrameWriter,
  payloadEnvelope,
  type Envelope,
} from './frames.ts';
import type { FrameTimeline } from './frame-log.ts';
import { begin, drop, end, type RequestContext } from './http-io.ts';
import {
  idsInner,
  snapshotInner,
  titleInner,
  type CandidateSnapshot,
  type FinalParts,
  type TurnIds,
} from './inner.ts';
import { errorEnvelopeIn, shapeInner, type ReplyForm } from './newer-shape.ts';
import type { Fault } from './types.ts';

/** Everything needed to answer one turn. */
export interface PlannedTurn {
  ids: TurnIds;
  chat: Chat;
  prompt: string;
  plan: AnswerPlan;
  final: FinalParts;
  /** The reply's layout: positional, or the newer sparse form. */
  form: ReplyForm;
}

const STREAM_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
  'x-content-type-options': 'nosniff',
};
const AFTER_ANSWER_CODE = 1096;

/** One frame of the answer, and the length of the answer's text in it (null: none). */
interface AnswerStep {
  envelopes: Envelope[];
  textLength: number | null;
}

/** How many answer steps a fault lets through before it strikes. */
const CUT_AFTER: Partial<Record<Fault, number>> = {
  stall: 2,
  drop: 3,
  error_mid_answer: 2,
  stall_before_answer: 1,
  drop_before_answer: 1,
};

/** How long a dropped stream stays open after its last frame, so that the frame is read. */
const DROP_GRACE_MS = 250;

/** Streams the answer; resolves when it is written, dropped or the client has gone. */
export async function streamTurn(
  ctx: RequestContext,
  turn: PlannedTurn,
  framed: boolean,
  fault: Fault | null,
): Promise<void> {
  const startedMs = ctx.state.now();
  const steps = answerSteps(turn);
  const timeline = ctx.state.frames.open({
    seq: ctx.record.seq,
    email: ctx.record.email,
    prompt: turn.prompt,
  });
  begin(ctx, 200, STREAM_HEADERS);
  if (framed) {
    await writeFramed(ctx, turn, steps, fault, startedMs, timeline);
  } else {
    await writeUnframed(ctx, turn, steps, fault, startedMs, timeline);
  }
}

async function writeFramed(
  ctx: RequestContext,
  turn: PlannedTurn,
  steps: AnswerStep[],
  fault: Fault | null,
  startedMs: number,
  timeline: FrameTimeline,
): Promise<void> {
  const writer = new FrameWriter();
  ctx.res.write(writer.prefix());
  // steps[0] is the ids frame and steps[1] the first snapshot; a stall stops after it.
  const cut = fault ? (CUT_AFTER[fault] ?? steps.length) : steps.length;
  for (let i = 0; i < Math.min(cut, steps.length); i += 1) {
    if (i > 0 && !(await pause(ctx))) {
      return;
    }
    const step = steps[i];
    ctx.res.write(writer.frame(step?.envelopes ?? []));
    timeline.stamp(step?.textLength ?? null);
  }
  if (fault === 'stall' || fault === 'stall_before_answer') {
    return untilAborted(ctx.signal);
  }
  if (fault === 'drop' || fault === 'drop_before_answer') {
    // Let what was written reach the client, and be read, first: a cut, not a reset before any
    // response. A reader destroyed by the reset loses what it had buffered but not yet read.
    if (await pause(ctx, DROP_GRACE_MS)) {
      drop(ctx);
    }
    return;
  }
  if (fault === 'error_mid_answer') {
    const tail = [errorEnvelopeIn(turn.form, AFTER_ANSWER_CODE)];
    end(ctx, writer.frame(tail) + writer.frame(bookkeepingEnvelopes(1)) + writer.trailer());
    return;
  }
  commitTurn(ctx, turn);
  if (fault === 'error_after_answer' && (await pause(ctx))) {
    ctx.res.write(writer.frame([errorEnvelopeIn(turn.form, AFTER_ANSWER_CODE)]));
  }
  if (await pause(ctx)) {
    ctx.res.write(writer.frame(bookkeepingEnvelopes(ctx.state.now() - startedMs)));
    timeline.stamp(null);
    end(ctx, writer.trailer());
    timeline.stamp(null);
  }
}

/** An in-band error reply: the error frame, bookkeeping and the trailer (or one JSON line). */
export function sendInBandError(
  ctx: RequestContext,
  code: number,
  framed: boolean,
  form: ReplyForm = 'positional',
): void {
  const envelopes: Envelope[] = [errorEnvelopeIn(form, code), ...bookkeepingEnvelopes(1)];
  begin(ctx, 200, STREAM_HEADERS);
  if (!framed) {
    end(ctx, encodeUnframed(envelopes));
    return;
  }
  const writer = new FrameWriter();
  const [error, ...bookkeeping] = envelopes;
  end(
    ctx,
    writer.prefix() +
      writer.frame(error ? [error] : []) +
      writer.frame(bookkeeping) +
      writer.trailer(),
  );
}

/** Opaque ids for images in the final frame. */
export function newImageId(): string {
  return `AOI_d_${randomBytes(42).toString('base64url')}`;
}

function answerSteps(turn: PlannedTurn): AnswerStep[] {
  const states = candidateStates(turn.plan, snapshotCount(turn.prompt));
  const payload = (inner: unknown[], textLength: number | null = null): AnswerStep => ({
    envelopes: [payloadEnvelope(shapeInner(inner, turn.form))],
    textLength,
  });
  const steps: AnswerStep[] = [payload(idsInner(turn.ids))];
  states.forEach((state, i) => {
    const last = i === states.length - 1;
    const text = (state.cardText ?? state.text).length;
    steps.push(payload(snapshotInner(turn.ids, state, last ? turn.final : undefined), text));
    if (i === 1 && !last) {
      steps.push(payload(titleInner(turn.ids, turn.plan.title)));
    }
  });
  return steps;
}

function candidateStates(plan: AnswerPlan, count: number): CandidateSnapshot[] {
  const card = plan.cardText !== null;
  const states: CandidateSnapshot[] = [];
  if (plan.thoughts !== null) {
    for (const thoughts of snapshots(plan.thoughts, 3)) {
      states.push({
        text: card ? plan.text : '',
        cardText: card ? '' : null,
        thoughts,
        done: false,
      });
    }
  }
  for (const growing of snapshots(plan.cardText ?? plan.text, count)) {
    states.push({
      text: card ? plan.text : growing,
      cardText: card ? growing : null,
      thoughts: plan.thoughts,
      done: false,
    });
  }
  const last = states[states.length - 1];
  if (last) {
    last.done = true;
  }
  return states;
}

async function writeUnframed(
  ctx: RequestContext,
  turn: PlannedTurn,
  steps: AnswerStep[],
  fault: Fault | null,
  startedMs: number,
  timeline: FrameTimeline,
): Promise<void> {
  if (fault === 'stall' || fault === 'stall_before_answer') {
    ctx.res.write(")]}'\n\n");
    await untilAborted(ctx.signal);
    return;
  }
  if (fault === 'drop' || fault === 'drop_before_answer') {
    ctx.res.write(")]}'\n\n");
    drop(ctx);
    return;
  }
  commitTurn(ctx, turn);
  const finalStep = steps[steps.length - 1];
  const late = fault === 'error_after_answer' || fault === 'error_mid_answer';
  const after = late ? [errorEnvelopeIn(turn.form, AFTER_ANSWER_CODE)] : [];
  const bookkeeping = bookkeepingEnvelopes(ctx.state.now() - startedMs);
  end(ctx, encodeUnframed([...(finalStep?.envelopes ?? []), ...after, ...bookkeeping]));
  timeline.stamp(finalStep?.textLength ?? null);
}

function commitTurn(ctx: RequestContext, turn: PlannedTurn): void {
  const { chat, ids, plan, final } = turn;
  ctx.state.chats.addTurn(
    chat,
    {
      rid: ids.rid,
      rcid: ids.rcid,
      prompt: turn.prompt,
      answer: plan.cardText ?? plan.text,
      atMs: ctx.state.now(),
    },
    final.contextToken,
  );
  if (final.generatedImage) {
    ctx.state.images.set(final.generatedImage.imageId, {
      imageId: final.generatedImage.imageId,
      email: chat.email,
    });
  }
}

/** Waits chunkDelayMs; false when the client went away meanwhile. */
async function pause(ctx: RequestContext, atLeastMs = 0): Promise<boolean> {
  if (ctx.signal.aborted) {
    return false;
  }
  try {
    const ms = Math.max(ctx.state.tunables.chunkDelayMs, atLeastMs);
    await delay(ms, undefined, { signal: ctx.signal });
  } catch {
    return false;
  }
  return !ctx.signal.aborted;
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.resolve();
  }
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
