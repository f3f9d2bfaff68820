/**
 * Line-level recognition of the call fence (see tool-prompt.ts), tolerant of what Gemini web
 * does to it: backslash-escaped backticks, an escaped or underscored info string, CRLF, and
 * lines that are still arriving.
 */
import { CALL_INFO } from './tool-prompt.ts';

/** The fence a call block was opened with. */
export interface Fence {
  readonly char: '`' | '~';
  readonly length: number;
}

/** no: this line is not an opener; maybe: it may still become one; yes: it is one. */
export type OpenerMatch =
  | { readonly kind: 'no' }
  | { readonly kind: 'maybe' }
  | { readonly kind: 'yes'; readonly fence: Fence; readonly info: string; readonly rest: string };

const NO: OpenerMatch = { kind: 'no' };
const MAYBE: OpenerMatch = { kind: 'maybe' };
const MIN_FENCE = 3;

/**
 * Whether `line` opens a fenced block whose info string is one of `infos`. `complete` says the
 * line has ended (a newline or the end of the answer followed it); an incomplete line that
 * could still become an opener is `maybe`.
 */
export function matchOpener(
  line: string,
  complete: boolean,
  infos: readonly string[] = [CALL_INFO],
): OpenerMatch {
  const text = complete ? line.replace(/[\r \t]+$/, '') : line;
  const unfinished = complete ? NO : MAYBE;
  let i = 0;
  while (i < text.length && i < 3 && text[i] === ' ') {
    i += 1;
  }
  const run = readFenceRun(text, i);
  if (run === null) {
    return unfinished;
  }
  i = run.end;
  if (i >= text.length) {
    return unfinished;
  }
  if (run.length < MIN_FENCE || run.char === null) {
    return NO;
  }
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) {
    i += 1;
  }
  const wordStart = i;
  while (i < text.length && /[A-Za-z_\\-]/.test(text[i] ?? '')) {
    i += 1;
  }
  const info = text.slice(wordStart, i).replace(/\\/g, '').replace(/_/g, '-').toLowerCase();
  if (i >= text.length) {
    if (complete) {
      return infos.includes(info) ? { kind: 'yes', fence: fenceOf(run), info, rest: '' } : NO;
    }
    return infos.some((known) => known.startsWith(info)) ? MAYBE : NO;
  }
  const next = text[i] ?? '';
  if (!infos.includes(info) || !/[\s{[]/.test(next)) {
    return NO;
  }
  const rest = text.slice(i).trim();
  return complete ? { kind: 'yes', fence: fenceOf(run), info, rest } : MAYBE;
}

/** Whether a complete line closes a block opened with `fence` (escaped fences count). */
export function isCloser(line: string, fence: Fence): boolean {
  const text = line.trim();
  const run = readFenceRun(text, 0);
  return (
    run !== null && run.end === text.length && run.char === fence.char && run.length >= MIN_FENCE
  );
}

interface FenceRun {
  char: '`' | '~' | null;
  length: number;
  end: number;
}

/**
 * Reads a run of one fence character (each optionally preceded by a backslash) from `start`.
 * Null when the text ends on a lone backslash, where the run might still continue.
 */
function readFenceRun(text: string, start: number): FenceRun | null {
  let char: '`' | '~' | null = null;
  let length = 0;
  let i = start;
  while (i < text.length) {
    const escaped = text[i] === '\\';
    if (escaped && i + 1 >= text.length) {
      return null;
    }
    const c = escaped ? text[i + 1] : text[i];
    if ((c !== '`' && c !== '~') || (char !== null && c !== char)) {
      break;
    }
    char = c;
    length += 1;
    i += escaped ? 2 : 1;
  }
  return { char, length, end: i };
}

function fenceOf(run: FenceRun): Fence {
  return { char: run.char ?? '`', length: run.length };
}
