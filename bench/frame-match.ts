/**
 * The per-frame relay delay, from both ends of one stream: the emulator stamps when it wrote each
 * StreamGenerate frame (GET /__emulator/frames), the bench stamps when each content event
 * arrived, both with `performance.timeOrigin + performance.now()`. Pure functions, unit-tested.
 */

/** A content event as the client saw it: when, and the answer's text length once it is added. */
export interface ArrivedEvent {
  readonly atMs: number;
  /** Cumulative text length (UTF-16 units) after this event. */
  readonly textLength: number;
}

/** A frame as the emulator logged it (src/emulator/frame-log.ts). */
export interface SentFrame {
  readonly atMs: number;
  readonly textLength: number | null;
}

/** Each event's delay after the frame that carried its text; events no frame explains are counted. */
export interface FrameDelays {
  readonly delays: number[];
  readonly unmatched: number;
}

/**
 * Matches event k to its frame by text length: the frames are cumulative snapshots, so the text
 * up to an event's length first exists in the earliest frame at least that long. That holds when
 * several events leave in one write (the worker coalesces one event-loop turn) and when the
 * client holds a flickering tail back until a later frame, which at worst blames the relay for
 * a frame's wait on the next one: never a delay too small.
 */
export function frameDelays(
  events: readonly ArrivedEvent[],
  frames: readonly SentFrame[],
): FrameDelays {
  const delays: number[] = [];
  let unmatched = 0;
  let j = 0;
  for (const event of events) {
    // Events grow, so the search goes on from the previous match.
    while (j < frames.length && !((frames[j]!.textLength ?? -1) >= event.textLength)) {
      j += 1;
    }
    const frame = frames[j];
    if (frame) {
      delays.push(event.atMs - frame.atMs);
    } else {
      unmatched += 1;
    }
  }
  return { delays, unmatched };
}

/**
 * Reads an OpenAI chat-completions SSE stream chunk by chunk: each `data:` line with a non-empty
 * `delta.content` is one event, stamped with the arrival of the chunk that completed its line.
 */
export class SseContentReader {
  private partial = '';
  private length = 0;
  readonly events: ArrivedEvent[] = [];

  /** Feeds one chunk of the body, arrived at `atMs`. */
  push(chunk: string, atMs: number): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const content = contentOf(line);
      if (content) {
        this.length += content.length;
        this.events.push({ atMs, textLength: this.length });
      }
    }
  }
}

function contentOf(line: string): string | null {
  if (!line.startsWith('data: {')) {
    return null;
  }
  const chunk = JSON.parse(line.slice('data: '.length)) as {
    choices?: { delta?: { content?: unknown } }[];
  };
  const content = chunk.choices?.[0]?.delta?.content;
  return typeof content === 'string' && content !== '' ? content : null;
}

/**
 * The emulator's clock minus ours, from the quickest of a few round trips (NTP's rule): the
 * reading is taken between our two stamps, so the offset is known within half that round trip.
 */
export function clockOffset(
  probes: readonly { sentMs: number; theirsMs: number; receivedMs: number }[],
): { offsetMs: number; withinMs: number } {
  const best = probes.reduce((a, b) => (b.receivedMs - b.sentMs < a.receivedMs - a.sentMs ? b : a));
  const rtt = best.receivedMs - best.sentMs;
  return { offsetMs: best.theirsMs - (best.sentMs + rtt / 2), withinMs: rtt / 2 };
}
