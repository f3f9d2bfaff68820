/**
 * Bytes -> frames for StreamGenerate and batchexecute replies (protocol doc §4). The body opens
 * with `)]}'`, then `<N>\n<json>\n` frames where N counts the UTF-16 code units of
 * `\n`+json+`\n`. Chunks may split anywhere, even inside a UTF-8 character. Since frames never
 * hold raw newlines, a frame whose length is off falls back to line-wise reading, and so does the
 * legacy unframed form (one JSON line holding every envelope).
 */

const XSSI_PREFIX = ")]}'";

/** One parsed frame: normally an array of envelopes, but any JSON value is passed on. */
export type Frame =
  null | boolean | number | string | readonly unknown[] | { readonly [k: string]: unknown };

type Step = { frame: Frame | undefined; next: number } | null;

/**
 * Splits a body into JSON frames as its chunks arrive, synchronously: `push` returns the frames a
 * chunk completed, `end` the rest. Unparsable lines are skipped and reported to `onUnparsable`
 * (protocol drift). The answer reader drives it from its own loop, which spares an async
 * generator step (promises and result objects) per chunk.
 */
export class FrameSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private buf = '';
  private prefixChecked = false;

  constructor(private readonly onUnparsable: () => void = () => undefined) {}

  /** The frames that `chunk` completed, in order. */
  push(chunk: Uint8Array): Frame[] {
    this.buf += this.decoder.decode(chunk, STREAM_DECODE);
    if (!this.prefixChecked) {
      const head = this.buf.trimStart();
      if (head.length < XSSI_PREFIX.length && XSSI_PREFIX.startsWith(head)) {
        return [];
      }
      this.buf = stripPrefix(this.buf);
      this.prefixChecked = true;
    }
    return this.drain(false);
  }

  /** The frames left once the body ended. */
  end(): Frame[] {
    this.buf = stripPrefix(this.buf + this.decoder.decode());
    return this.drain(true);
  }

  private drain(atEnd: boolean): Frame[] {
    const frames: Frame[] = [];
    let pos = 0;
    for (
      let step = nextFrame(this.buf, pos, atEnd, this.onUnparsable);
      step;
      step = nextFrame(this.buf, pos, atEnd, this.onUnparsable)
    ) {
      pos = step.next;
      if (step.frame !== undefined) {
        frames.push(step.frame);
      }
    }
    this.buf = this.buf.slice(pos);
    return frames;
  }
}

const STREAM_DECODE = { stream: true } as const;

/**
 * Yields each JSON frame of a body as soon as it is complete. Unparsable lines are skipped and
 * reported to `onUnparsable` (protocol drift).
 */
export async function* readFrames(
  chunks: AsyncIterable<Uint8Array>,
  onUnparsable: () => void = () => undefined,
): AsyncGenerator<Frame> {
  const splitter = new FrameSplitter(onUnparsable);
  for await (const chunk of chunks) {
    for (const frame of splitter.push(chunk)) {
      yield frame;
    }
  }
  for (const frame of splitter.end()) {
    yield frame;
  }
}

function stripPrefix(buf: string): string {
  const start = buf.length - buf.trimStart().length;
  return buf.startsWith(XSSI_PREFIX, start) ? buf.slice(start + XSSI_PREFIX.length) : buf;
}

/**
 * Reads one item at `pos`: a length-prefixed frame, or a bare JSON line. null means "need more
 * data" (or, at the end, nothing left); a step without a frame skipped something unusable.
 */
function nextFrame(buf: string, from: number, atEnd: boolean, onBad: () => void): Step {
  const pos = skipWhitespace(buf, from);
  if (pos >= buf.length) {
    return null;
  }
  const headerEnd = buf.indexOf('\n', pos);
  const header = buf.slice(pos, headerEnd < 0 ? buf.length : headerEnd).trim();
  if (!/^\d+$/.test(header)) {
    return readLine(buf, pos, atEnd, onBad);
  }
  if (headerEnd < 0) {
    return atEnd ? { frame: undefined, next: buf.length } : null;
  }
  const length = Number(header);
  if (buf.length >= headerEnd + length) {
    const frame = tryParse(buf.slice(headerEnd, headerEnd + length));
    if (frame !== undefined) {
      return { frame, next: headerEnd + length };
    }
    // The length is wrong (a server counting bytes, say): the frame is still one line.
    return readLine(buf, headerEnd + 1, atEnd, onBad);
  }
  // Not enough data for N units yet. A complete JSON line already here means N is off.
  const lineEnd = buf.indexOf('\n', headerEnd + 1);
  if (lineEnd >= 0 || atEnd) {
    const frame = tryParse(buf.slice(headerEnd + 1, lineEnd < 0 ? buf.length : lineEnd));
    if (frame !== undefined || atEnd) {
      return { frame, next: lineEnd < 0 ? buf.length : lineEnd + 1 };
    }
  }
  return null;
}

function readLine(buf: string, pos: number, atEnd: boolean, onBad: () => void): Step {
  const end = buf.indexOf('\n', pos);
  if (end < 0 && !atEnd) {
    return null;
  }
  const text = buf.slice(pos, end < 0 ? buf.length : end);
  const frame = tryParse(text);
  if (frame === undefined && text.trim() !== '') {
    onBad();
  }
  return { frame, next: end < 0 ? buf.length : end + 1 };
}

function skipWhitespace(buf: string, pos: number): number {
  let i = pos;
  while (i < buf.length && /\s/.test(buf[i] ?? '')) {
    i += 1;
  }
  return i;
}

function tryParse(text: string): Frame | undefined {
  const t = text.trim();
  if (t === '') {
    return undefined;
  }
  try {
    return JSON.parse(t) as Frame;
  } catch {
    return undefined;
  }
}
