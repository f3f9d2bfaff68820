/**
 * Splits answer text, however it is chunked, into prose and call blocks. Prose is released as
 * soon as it cannot be the start of a call fence; the line that might be one is held back, so
 * protocol text never leaks. Whitespace before a block and after it is folded so that
 * "Let me check.\n\n<block>\n\nDone." reads "Let me check.\n\nDone.". Chunk boundaries never
 * change the result: the same text in any chunking gives the same segments.
 *
 * Given `isCallBody`, a ```json block is a candidate too (a model that ignored the info string):
 * it is held until it closes, then read as a call when its body is one, else released as prose.
 */
import { isCloser, matchOpener, type Fence } from './fence-lines.ts';
import { CALL_INFO } from './tool-prompt.ts';

const CANDIDATE_INFO = 'json';

/** What the scanner finds. */
export type ScanSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'block'; readonly body: string; readonly closed: boolean };

/** An incremental scanner: push chunks, then end once. */
export class CallScanner {
  private buffer = '';
  private atLineStart = true;
  private fence: Fence | null = null;
  private body = '';
  private heldSpace = '';
  private spaceBeforeBlocks = '';
  private afterBlock = false;
  private emittedText = false;
  /** The raw lines of an open candidate block, released as prose if it is no call. */
  private candidateRaw: string | null = null;
  private out: ScanSegment[] = [];
  private readonly infos: readonly string[];

  constructor(private readonly isCallBody: ((body: string) => boolean) | null = null) {
    this.infos = isCallBody ? [CALL_INFO, CANDIDATE_INFO] : [CALL_INFO];
  }

  /** Feeds a chunk; returns what became certain. */
  push(chunk: string): ScanSegment[] {
    this.buffer += chunk;
    this.drain(false);
    return this.take();
  }

  /** The answer is complete: flushes held text and an unclosed block. */
  end(): ScanSegment[] {
    this.drain(true);
    if (this.fence !== null) {
      this.closeBlock(false);
    }
    this.heldSpace = '';
    return this.take();
  }

  private drain(final: boolean): void {
    for (;;) {
      const progressed = this.fence === null ? this.stepText(final) : this.stepBlock(final);
      if (!progressed) {
        return;
      }
    }
  }

  /** One step in prose; false when it must wait for more input. */
  private stepText(final: boolean): boolean {
    if (this.buffer === '') {
      return false;
    }
    const newline = this.buffer.indexOf('\n');
    const complete = newline >= 0 || final;
    const lineEnd = newline >= 0 ? newline + 1 : this.buffer.length;
    if (!this.atLineStart) {
      const safeEnd = complete ? lineEnd : withoutLoneHighSurrogate(this.buffer);
      this.emitText(this.buffer.slice(0, safeEnd));
      this.consume(safeEnd, newline >= 0);
      return safeEnd > 0;
    }
    const line = this.buffer.slice(0, newline >= 0 ? newline : this.buffer.length);
    const match = matchOpener(line, complete, this.infos);
    if (match.kind === 'maybe') {
      return false;
    }
    if (match.kind === 'yes') {
      if (match.info === CALL_INFO) {
        this.openBlock(match.fence, match.rest);
      } else {
        this.fence = match.fence;
        this.body = match.rest === '' ? '' : `${match.rest}\n`;
        this.candidateRaw = this.buffer.slice(0, lineEnd);
      }
      this.consume(lineEnd, true);
      return true;
    }
    this.atLineStart = false;
    return true;
  }

  /** One step inside a block: takes a complete line; false when it must wait. */
  private stepBlock(final: boolean): boolean {
    const newline = this.buffer.indexOf('\n');
    if (newline < 0 && !(final && this.buffer !== '')) {
      return false;
    }
    const lineEnd = newline >= 0 ? newline + 1 : this.buffer.length;
    const line = this.buffer.slice(0, newline >= 0 ? newline : this.buffer.length);
    if (this.candidateRaw !== null) {
      this.candidateRaw += this.buffer.slice(0, lineEnd);
    }
    this.consume(lineEnd, true);
    const fence = this.fence ?? { char: '`', length: 3 };
    if (isCloser(line, fence)) {
      this.closeBlock(true);
      return true;
    }
    const reopened = this.candidateRaw === null ? matchOpener(line, true) : null;
    if (reopened?.kind === 'yes') {
      // A new opener before a closer: the model forgot to close the previous block.
      this.finishBlock(false);
      this.openBlock(reopened.fence, reopened.rest);
      return true;
    }
    this.body += newline < 0 ? line : `${line}\n`;
    return true;
  }

  private consume(count: number, toLineStart: boolean): void {
    this.buffer = this.buffer.slice(count);
    if (toLineStart) {
      this.atLineStart = true;
    }
  }

  private openBlock(fence: Fence, rest: string): void {
    if (!this.afterBlock) {
      this.spaceBeforeBlocks = this.emittedText ? this.heldSpace : '';
    }
    this.heldSpace = '';
    this.afterBlock = true;
    this.fence = fence;
    this.body = rest === '' ? '' : `${rest}\n`;
  }

  /** Ends the open block: a call block, or a candidate decided now. */
  private closeBlock(closed: boolean): void {
    const raw = this.candidateRaw;
    if (raw === null) {
      this.finishBlock(closed);
      return;
    }
    this.candidateRaw = null;
    const body = this.body;
    this.fence = null;
    this.body = '';
    if (this.isCallBody?.(body)) {
      this.openBlock({ char: '`', length: 3 }, '');
      this.body = body;
      this.finishBlock(closed);
    } else {
      this.emitText(raw);
    }
  }

  private finishBlock(closed: boolean): void {
    this.out.push({ kind: 'block', body: this.body, closed });
    this.fence = null;
    this.body = '';
  }

  private emitText(raw: string): void {
    let text = this.heldSpace + raw;
    if (this.afterBlock) {
      const trimmed = text.replace(/^\s+/, '');
      if (trimmed === '') {
        this.heldSpace = '';
        return;
      }
      text = this.spaceBeforeBlocks + trimmed;
      this.afterBlock = false;
      this.spaceBeforeBlocks = '';
    }
    const trailing = /\s+$/.exec(text);
    const head = trailing ? text.slice(0, trailing.index) : text;
    this.heldSpace = trailing ? trailing[0] : '';
    if (head !== '') {
      this.out.push({ kind: 'text', text: head });
      this.emittedText = true;
    }
  }

  private take(): ScanSegment[] {
    const segments = this.out;
    this.out = [];
    return segments;
  }
}

/** The length of `text` without a trailing high surrogate whose low half has not arrived. */
function withoutLoneHighSurrogate(text: string): number {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.length - 1 : text.length;
}
