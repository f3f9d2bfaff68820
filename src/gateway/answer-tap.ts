/**
 * @module gateway/answer-tap
 * Reads the answer text off a response while its bytes pass through to the client, so the key of
 * the conversation's next turn (history + this answer) can be bound too. It never holds bytes
 * back: it only copies text, up to a bound, and gives up on anything it does not understand.
 * The framing (SSE lines, a whole JSON body) is here; what a dialect's events mean is its
 * reader's: OpenAI's here, Anthropic's and Google's in dialect-taps.ts.
 */
import { StringDecoder } from 'node:string_decoder';
import type { KeyedMessage } from '../history-key.ts';

/** A side reader of one response body. */
export interface AnswerTap {
  /** Sees one body chunk, in order. */
  push(chunk: Buffer): void;
  /** The whole answer text, or null (unknown shape, an error, too long, or no clean end). */
  answer(): string | null;
  /** The answer's tool calls, in OpenAI's message shape (assembled from deltas when streamed). */
  toolCalls(): TappedCall[];
}

/** A tool call as an assistant message carries it. */
export interface TappedCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** What a reader builds up from one answer. */
export interface TapState {
  text: string;
  readonly calls: TappedCall[];
  /** The answer's end was seen (its end marker, or a whole body that says it is complete). */
  done: boolean;
  /** An error, or a shape the reader does not understand: there is no answer to bind. */
  broken: boolean;
}

/** Reads one SSE `data:` payload into the state. */
export type SseDataReader = (data: string, state: TapState) => void;

/** Reads a whole (parsed) JSON body into the state; `undefined` when it was not JSON. */
export type BodyReader = (body: unknown, state: TapState) => void;

const DEFAULT_MAX_CHARS = 1_000_000;

/** OpenAI's tap for an SSE (`stream: true`) or a JSON body; texts past `maxChars` are given up on. */
export function createAnswerTap(kind: 'sse' | 'json', maxChars = DEFAULT_MAX_CHARS): AnswerTap {
  return kind === 'sse' ? sseTap(openAiChunk, maxChars) : bodyTap(openAiBody, maxChars);
}

const newState = (): TapState => ({ text: '', calls: [], done: false, broken: false });

/** A tap over SSE: each complete `data:` line goes to `read`, whatever the chunking. */
export function sseTap(read: SseDataReader, maxChars = DEFAULT_MAX_CHARS): AnswerTap {
  const decoder = new StringDecoder('utf8');
  const state = newState();
  let pending = '';
  const ok = (): boolean => state.done && !state.broken;
  return {
    push(chunk) {
      if (state.broken) {
        return;
      }
      pending += decoder.write(chunk);
      for (let nl = pending.indexOf('\n'); nl >= 0 && !state.broken; nl = pending.indexOf('\n')) {
        const raw = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.startsWith('data:')) {
          read(line.slice(5).trim(), state);
        }
        state.broken ||= state.text.length > maxChars;
      }
      state.broken ||= pending.length > maxChars;
    },
    answer: () => (ok() ? state.text : null),
    toolCalls: () => (ok() ? state.calls : []),
  };
}

/** A tap over a whole JSON body, kept (up to a bound) and read once at the end. */
export function bodyTap(read: BodyReader, maxChars = DEFAULT_MAX_CHARS): AnswerTap {
  const chunks: Buffer[] = [];
  let size = 0;
  let state: TapState | null = null;
  const settled = (): TapState => {
    if (state === null) {
      state = newState();
      if (size > maxChars * 4) {
        state.broken = true;
      } else {
        read(parseJson(Buffer.concat(chunks).toString('utf8')), state);
        state.broken ||= state.text.length > maxChars;
      }
    }
    return state;
  };
  const ok = (): boolean => settled().done && !settled().broken;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= maxChars * 4) {
        chunks.push(chunk);
      }
    },
    answer: () => (ok() ? settled().text : null),
    toolCalls: () => (ok() ? settled().calls : []),
  };
}

/** One OpenAI chunk: its delta text and call deltas; `[DONE]` ends; an error chunk breaks. */
function openAiChunk(data: string, state: TapState): void {
  if (data === '[DONE]') {
    state.done = true;
    return;
  }
  const parsed = parseJson(data);
  if (!isRecord(parsed) || 'error' in parsed) {
    state.broken = true;
    return;
  }
  const choice = firstChoice(parsed);
  const delta = isRecord(choice) ? choice['delta'] : undefined;
  addCallDeltas(isRecord(delta) ? delta['tool_calls'] : undefined, state.calls);
  const content = isRecord(delta) ? delta['content'] : undefined;
  state.text += typeof content === 'string' ? content : '';
}

/** A chat completion: its message's content (null with calls counts as ''), and its calls. */
function openAiBody(body: unknown, state: TapState): void {
  const choice = firstChoice(body);
  const message = isRecord(choice) ? choice['message'] : undefined;
  const content = isRecord(message) ? message['content'] : undefined;
  const given = isRecord(message) ? message['tool_calls'] : undefined;
  addCallDeltas(
    Array.isArray(given) ? given.map((c: unknown, index) => ({ ...(c as object), index })) : [],
    state.calls,
  );
  // An answer that is only calls has null content; its key holds the calls.
  if (typeof content === 'string' || (content === null && Array.isArray(given))) {
    state.text = content ?? '';
    state.done = true;
  } else {
    state.broken = true;
  }
}

/** Streamed call deltas: the first of a call names it, later ones add argument text. */
function addCallDeltas(deltas: unknown, calls: TappedCall[]): void {
  for (const d of Array.isArray(deltas) ? (deltas as unknown[]) : []) {
    if (!isRecord(d) || typeof d['index'] !== 'number') {
      continue;
    }
    const fn = isRecord(d['function']) ? d['function'] : {};
    const call = (calls[d['index']] ??= tappedCall('', ''));
    call.id = typeof d['id'] === 'string' ? d['id'] : call.id;
    call.function.name = typeof fn['name'] === 'string' ? fn['name'] : call.function.name;
    call.function.arguments += typeof fn['arguments'] === 'string' ? fn['arguments'] : '';
  }
}

/** A call with no arguments yet. */
export function tappedCall(id: string, name: string, args = ''): TappedCall {
  return { id, type: 'function', function: { name, arguments: args } };
}

function firstChoice(body: unknown): unknown {
  const choices = isRecord(body) ? body['choices'] : undefined;
  return Array.isArray(choices) ? (choices as unknown[])[0] : undefined;
}

/** JSON.parse, or undefined. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The objects of an array; anything else is none. */
export const records = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? (v as unknown[]).filter(isRecord) : [];

/** The texts of the parts that hold one; `skip` leaves some out (thoughts, other blocks). */
export const textParts = (
  parts: readonly Record<string, unknown>[],
  skip = (_: Record<string, unknown>) => false,
): string[] =>
  parts.filter((p) => typeof p['text'] === 'string' && !skip(p)).map((p) => p['text'] as string);

/**
 * An answer as the history that follows it holds it, in every dialect's reader: its texts joined
 * with nothing between them (however a stream split them), and its calls.
 */
export function assistantTurn(
  texts: readonly string[],
  calls: readonly TappedCall[],
): KeyedMessage {
  return {
    role: 'assistant',
    content: texts.join(''),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string as it is, anything else ''. */
export function asString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
