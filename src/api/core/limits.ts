/**
 * Output limits, streamed or whole, with identical results for any chunking:
 * - stop sequences: the answer ends before the first stop sequence to be completed while
 *   reading (the smallest end; on a tie the one that starts first). Streamed, the tail that
 *   could still grow into a stop sequence is held back, so none ever leaks.
 * - max tokens: the answer is cut after the longest prefix that fits, counted by a TokenCounter.
 */
import { estimateTokens, type TokenCounter } from './tokens.ts';

/** What passed a limit, and whether the limit ended the answer. */
export interface LimitStep {
  readonly text: string;
  readonly done: boolean;
}

/** Where the first stop sequence completes in `text`, or null. */
export function findStop(
  text: string,
  stops: readonly string[],
): { readonly index: number; readonly sequence: string } | null {
  let best: { index: number; sequence: string } | null = null;
  for (const sequence of stops) {
    const index = sequence === '' ? -1 : text.indexOf(sequence);
    if (index < 0) {
      continue;
    }
    const end = index + sequence.length;
    const bestEnd = best === null ? Infinity : best.index + best.sequence.length;
    if (end < bestEnd || (end === bestEnd && best !== null && index < best.index)) {
      best = { index, sequence };
    }
  }
  return best;
}

/** Cuts a streamed answer at its first stop sequence. */
export class StopSequenceCutter {
  private held = '';
  /** The stop sequence that ended the answer, once one has. */
  stoppedBy: string | null = null;

  constructor(private readonly stops: readonly string[]) {}

  /** Feeds a delta; returns what is safe to send. */
  push(delta: string): LimitStep {
    if (this.stoppedBy !== null) {
      return { text: '', done: true };
    }
    const buffer = this.held + delta;
    const stop = findStop(buffer, this.stops);
    if (stop) {
      this.stoppedBy = stop.sequence;
      this.held = '';
      return { text: buffer.slice(0, stop.index), done: true };
    }
    const keep = Math.max(heldPrefixLength(buffer, this.stops), loneHighSurrogate(buffer));
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), done: false };
  }

  /** The answer ended: whatever was held back is plain text. */
  end(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

/** Cuts a streamed answer after `maxTokens` tokens. */
export class TokenLimiter {
  private committedTokens = 0;
  private tail = '';
  /** True once the limit has cut the answer. */
  reached = false;

  constructor(
    private readonly maxTokens: number,
    private readonly count: TokenCounter = estimateTokens,
  ) {}

  /** Tokens of everything passed so far. */
  get tokens(): number {
    return this.committedTokens + this.count(this.tail);
  }

  /** Feeds a delta; returns what fits. */
  push(delta: string): LimitStep {
    if (this.reached) {
      return { text: '', done: true };
    }
    if (this.committedTokens + this.count(this.tail + delta) <= this.maxTokens) {
      this.tail += delta;
      this.commit();
      return { text: delta, done: false };
    }
    const points = Array.from(delta);
    let low = 0;
    let high = points.length;
    // The longest prefix of the delta (in code points) that still fits.
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const fits =
        this.committedTokens + this.count(this.tail + points.slice(0, mid).join('')) <=
        this.maxTokens;
      if (fits) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    const text = points.slice(0, low).join('');
    this.tail += text;
    this.reached = true;
    return { text, done: true };
  }

  /** Moves everything before the tail's last whitespace run into the committed count. */
  private commit(): void {
    const lastRun = /\s+\S*$/.exec(this.tail);
    if (lastRun === null || lastRun.index === 0) {
      return;
    }
    this.committedTokens += this.count(this.tail.slice(0, lastRun.index));
    this.tail = this.tail.slice(lastRun.index);
  }
}

/** The length of the longest suffix of `text` that is a proper prefix of a stop sequence. */
function heldPrefixLength(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > best; n -= 1) {
      if (text.endsWith(stop.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}

function loneHighSurrogate(text: string): number {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? 1 : 0;
}
