/**
 * Cumulative snapshots -> deltas, and frame parts -> GenerateEvents.
 *
 * Gemini repeats the whole answer in every frame, and a tail may "flicker" (a temporary escape or
 * closing code fence that the next frame replaces). Text already sent cannot be taken back, so:
 * a tail that commonly flickers (trailing backslashes or backticks, a half-written placeholder
 * URL) is held back until a later frame extends past it or the answer completes; and when a
 * snapshot still contradicts what was sent, nothing is sent until it grows longer than the
 * snapshot we last followed, and then we send it from the longest common prefix on. That keeps
 * every character Gemini finally wrote, at the cost of leaving the flickered fragment in place.
 * The `done` result carries Gemini's final text, which is the truth for storage.
 */
import { describeDrift, type DriftKind } from './drift.ts';
import { errorForCode, GeminiError } from './errors.ts';
import type { ParsedCandidate } from './candidate.ts';
import type { FramePart } from './parse.ts';
import type { ChatMetadata, GenerateEvent, GenerateResult, ResponseImage } from './types.ts';

/** Turns cumulative snapshots of one string into deltas. */
export interface DeltaTracker {
  /** The delta to send for this snapshot ('' when nothing new can be sent yet). */
  push(snapshot: string, final: boolean): string;
  /** Everything sent so far. */
  readonly sent: string;
}

const PLACEHOLDER_PREFIX = 'http://googleusercontent.com/';
// Its proper prefixes, shortest first, made once: every non-final snapshot is checked against them.
const PLACEHOLDER_HEADS: readonly string[] = Array.from(
  { length: PLACEHOLDER_PREFIX.length - 1 },
  (_, i) => PLACEHOLDER_PREFIX.slice(0, i + 1),
);
// A closing fence flickers with its newline, so the newline is held back with it.
const FLICKER_TAIL_RE = /\n?(?:\\+|`+)$/;
const PARTIAL_PLACEHOLDER_RE = /http:\/\/googleusercontent\.com\/\w*(?:\/\d*)?$/;

/** How many trailing code units of a non-final snapshot to hold back. */
export function volatileTailLength(snapshot: string): number {
  const flicker = FLICKER_TAIL_RE.exec(snapshot);
  if (flicker) {
    return flicker[0].length;
  }
  const partial = PARTIAL_PLACEHOLDER_RE.exec(snapshot);
  if (partial) {
    return partial[0].length;
  }
  // A placeholder URL whose first characters have just arrived.
  for (let k = Math.min(snapshot.length, PLACEHOLDER_HEADS.length); k > 0; k -= 1) {
    if (snapshot.endsWith(PLACEHOLDER_HEADS[k - 1]!)) {
      return k;
    }
  }
  return 0;
}

/** The part of a snapshot that is safe to send now: all of it once the answer is final. */
export function stableText(snapshot: string, final: boolean): string {
  return final ? snapshot : snapshot.slice(0, snapshot.length - volatileTailLength(snapshot));
}

/** Length of the longest common prefix, never ending inside a surrogate pair. */
export function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) {
    i += 1;
  }
  const prev = a.charCodeAt(i - 1);
  return i > 0 && i < max && prev >= 0xd800 && prev <= 0xdbff ? i - 1 : i;
}

/** A tracker that applies this file's flicker policy. */
export function createDeltaTracker(): DeltaTracker {
  let view = '';
  let sent = '';
  return {
    push(snapshot, final) {
      const visible = stableText(snapshot, final);
      let delta = '';
      if (visible.startsWith(view)) {
        delta = visible.slice(view.length);
        view = visible;
      } else if (visible.length > view.length) {
        delta = visible.slice(commonPrefixLength(visible, view));
        view = visible;
      }
      sent += delta;
      return delta;
    },
    get sent() {
      return sent;
    },
  };
}

/** Folds frame parts into events; `finish()` checks the answer is complete and builds the result. */
export interface AnswerAssembler {
  /** Events for one part. Throws the classified GeminiError for a fatal in-band code. */
  push(part: FramePart): GenerateEvent[];
  /** The last events (held-back tails) and the result. Throws when the answer is incomplete. */
  finish(): { events: GenerateEvent[]; result: GenerateResult };
}

interface AnswerState {
  cid: string | null;
  rid: string | null;
  contextToken: string | null;
  modelName: string | null;
  candidate: ParsedCandidate | null;
  images: ResponseImage[];
  anyStatus: boolean;
  complete: boolean;
  ended: boolean;
  lastRpcStatus: number | null;
  /** The cid, rid and rcid of the last metadata event (compared field by field, no key string). */
  sentIds: readonly [string, string, string] | null;
  /** Shapes seen that no parser knows; named by the error when no answer came. */
  drift: DriftKind[];
}

/** A fresh assembler for one StreamGenerate reply. */
export function createAnswerAssembler(): AnswerAssembler {
  const s = initialState();
  const text = createDeltaTracker();
  const thoughts = createDeltaTracker();
  return {
    push(part) {
      switch (part.kind) {
        case 'payload':
          return applyPayload(s, part, text, thoughts);
        case 'error':
          // 1096 (and any code) after a finished answer is bookkeeping, not a failure.
          if (hasAnswer(s) && (part.code === 1096 || s.complete)) {
            return [];
          }
          throw errorForCode(part.code, part.rpcCode);
        case 'status':
          s.lastRpcStatus = part.rpcCode;
          return [];
        case 'drift':
          s.drift.push(part.drift);
          return [];
        case 'end':
          s.ended = true;
          return [];
      }
    },
    finish() {
      // Without any status field (legacy replies), a clean trailer after an answer is enough.
      if (!(s.complete || (!s.anyStatus && s.ended && hasAnswer(s)))) {
        throw incompleteError(s);
      }
      const events = deltaEvents(s.candidate, text, thoughts, true);
      return { events, result: buildResult(s) };
    },
  };
}

function initialState(): AnswerState {
  return {
    cid: null,
    rid: null,
    contextToken: null,
    modelName: null,
    candidate: null,
    images: [],
    anyStatus: false,
    complete: false,
    ended: false,
    lastRpcStatus: null,
    sentIds: null,
    drift: [],
  };
}

function hasAnswer(s: AnswerState): boolean {
  return (s.candidate?.text ?? '') !== '' || s.images.length > 0;
}

function applyPayload(
  s: AnswerState,
  p: Extract<FramePart, { kind: 'payload' }>,
  text: DeltaTracker,
  thoughts: DeltaTracker,
): GenerateEvent[] {
  s.cid = p.cid ?? s.cid;
  s.rid = p.rid ?? s.rid;
  s.contextToken = p.contextToken ?? s.contextToken;
  s.modelName = p.modelName ?? s.modelName;
  const events: GenerateEvent[] = [];
  if (p.candidate) {
    s.candidate = p.candidate;
    s.images = p.candidate.images.length > 0 ? p.candidate.images : s.images;
    s.anyStatus ||= p.candidate.status !== null;
    s.complete ||= p.candidate.status === 2;
  }
  const chat = chatOf(s);
  if (chat && !sameIds(s.sentIds, chat)) {
    s.sentIds = [chat.cid, chat.rid, chat.rcid];
    events.push({ type: 'metadata', chat });
  }
  events.push(...deltaEvents(s.candidate, text, thoughts, s.complete));
  return events;
}

function sameIds(sent: AnswerState['sentIds'], chat: ChatMetadata): boolean {
  return sent !== null && sent[0] === chat.cid && sent[1] === chat.rid && sent[2] === chat.rcid;
}

function deltaEvents(
  cand: ParsedCandidate | null,
  text: DeltaTracker,
  thoughts: DeltaTracker,
  final: boolean,
): GenerateEvent[] {
  if (!cand) {
    return [];
  }
  const events: GenerateEvent[] = [];
  const thoughtDelta = thoughts.push(cand.thoughts, final);
  if (thoughtDelta) {
    events.push({ type: 'thought', delta: thoughtDelta });
  }
  const textDelta = text.push(cand.text, final);
  if (textDelta) {
    events.push({ type: 'text', delta: textDelta });
  }
  return events;
}

function chatOf(s: AnswerState): ChatMetadata | null {
  if (!s.cid || !s.rid || !s.candidate) {
    return null;
  }
  const chat: ChatMetadata = { cid: s.cid, rid: s.rid, rcid: s.candidate.rcid };
  if (s.contextToken) {
    chat.contextToken = s.contextToken;
  }
  return chat;
}

function buildResult(s: AnswerState): GenerateResult {
  return {
    text: s.candidate?.text ?? '',
    thoughts: s.candidate?.thoughts ?? '',
    images: s.images,
    chat: chatOf(s),
    modelName: s.modelName,
  };
}

function incompleteError(s: AnswerState): GeminiError {
  if (!s.candidate && s.drift.length > 0) {
    return new GeminiError('transient', describeDrift(s.drift));
  }
  const why =
    s.lastRpcStatus !== null && !s.candidate
      ? `Gemini ended the reply with status ${s.lastRpcStatus} and no answer.`
      : s.candidate
        ? 'Gemini reply ended before the answer was complete.'
        : 'Gemini reply held no answer.';
  return new GeminiError('transient', why);
}
