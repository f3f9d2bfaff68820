/**
 * When each StreamGenerate frame was written, per request, for the benchmarks' per-frame relay
 * delay: the bench stamps each event's arrival with the same clock and subtracts. A ring of the
 * last `capacity` answers, each holding at most `framesPerAnswer` stamps, so a long run or an
 * endless answer can never grow it.
 */

/** One frame written: when, and how long the answer's text was in it (null: no text in it). */
export interface FrameStamp {
  /** Wall time with sub-ms precision, comparable across processes on one machine. */
  readonly atMs: number;
  /** The cumulative text length (UTF-16 units) of the snapshot; null for ids, title, bookkeeping. */
  readonly textLength: number | null;
}

/** The frames of one StreamGenerate answer. */
export interface FrameLogEntry {
  /** The request's record seq. */
  readonly seq: number;
  readonly email: string | null;
  /** The prompt's first PROMPT_CHARS characters: enough to tell the answers apart. */
  readonly prompt: string;
  readonly frames: FrameStamp[];
}

/** Where one answer's frames are stamped as they are written. */
export interface FrameTimeline {
  stamp(textLength: number | null): void;
}

/** The bounded log. */
export interface FrameLog {
  /** Starts an answer's timeline, evicting the oldest answer when full. */
  open(request: { seq: number; email: string | null; prompt?: string }): FrameTimeline;
  /** Copies of the logged answers, oldest first. */
  list(): FrameLogEntry[];
  clear(): void;
}

/** Wall time in ms with sub-ms precision; one clock for every process on the machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** How many answers and frames per answer the emulator keeps by default. */
export const FRAME_LOG_LIMITS = { capacity: 256, framesPerAnswer: 256 } as const;
// A prompt may be megabytes; the log keeps its head only, so 256 answers stay small.
const PROMPT_CHARS = 1000;

/** Creates an empty frame log. */
export function createFrameLog(
  limits: { capacity: number; framesPerAnswer: number } = FRAME_LOG_LIMITS,
  clock: () => number = wallClockMs,
): FrameLog {
  // A ring: `next` is where the next answer goes, overwriting the oldest once full.
  let ring: (FrameLogEntry | undefined)[] = [];
  let next = 0;
  return {
    open({ seq, email, prompt }) {
      const head = (prompt ?? '').slice(0, PROMPT_CHARS);
      const entry: FrameLogEntry = { seq, email, prompt: head, frames: [] };
      ring[next] = entry;
      next = (next + 1) % limits.capacity;
      return {
        stamp(textLength) {
          if (entry.frames.length < limits.framesPerAnswer) {
            entry.frames.push({ atMs: clock(), textLength });
          }
        },
      };
    },
    list() {
      const ordered = [...ring.slice(next), ...ring.slice(0, next)];
      return ordered
        .filter((e): e is FrameLogEntry => e !== undefined)
        .map((e) => ({ ...e, frames: [...e.frames] }));
    },
    clear() {
      ring = [];
      next = 0;
    },
  };
}
