/**
 * @module gateway/answer-tap
 * Reads the answer text off a response while its bytes pass through to the client, so the key of
 * the conversation's next turn (history + this answer) can be bound too. It never holds bytes
 * back: it only copies text, up to a bound, and gives up on anything it does not understand.
 */
import { StringDecoder } from 'node:string_decoder';

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

/** A tap for an SSE (`stream: true`) or a JSON body; texts past `maxChars` are given up on. */
export function createAnswerTap(kind: 'sse' | 'json', maxChars = 1_000_000): AnswerTap {
  return kind === 'sse' ? sseTap(maxChars) : jsonTap(maxChars);
}

function sseTap(maxChars: number): AnswerTap {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let text = '';
  let done = false;
  let broken = false;
  const calls: TappedCall[] = [];
  return {
    push(chunk) {
      if (broken) {
        return;
      }
      pending += decoder.write(chunk);
      for (let nl = pending.indexOf('\n'); nl >= 0 && !broken; nl = pending.indexOf('\n')) {
        const delta = sseLineText(pending.slice(0, nl), calls);
        pending = pending.slice(nl + 1);
        if (delta === DONE) {
          done = true;
        } else if (delta === null) {
          broken = true;
        } else {
          text += delta;
          broken = text.length > maxChars;
        }
      }
      broken ||= pending.length > maxChars;
    },
    answer: () => (done && !broken ? text : null),
    toolCalls: () => (done && !broken ? calls : []),
  };
}

const DONE = Symbol('done');

/** One SSE line's answer text ('' for none), DONE for `[DONE]`, null when it breaks the answer. */
function sseLineText(raw: string, calls: TappedCall[]): string | typeof DONE | null {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (!line.startsWith('data:')) {
    return '';
  }
  const data = line.slice(5).trim();
  return data === '[DONE]' ? DONE : chunkContent(data, calls);
}

/** A chunk's delta text ('' when it has none); null for an error chunk or bad JSON. */
function chunkContent(data: string, calls: TappedCall[]): string | null {
  const parsed = parseJson(data);
  if (!isRecord(parsed) || 'error' in parsed) {
    return null;
  }
  const choice = firstChoice(parsed);
  const delta = isRecord(choice) ? choice['delta'] : undefined;
  addCallDeltas(isRecord(delta) ? delta['tool_calls'] : undefined, calls);
  const content = isRecord(delta) ? delta['content'] : undefined;
  return typeof content === 'string' ? content : '';
}

/** Streamed call deltas: the first of a call names it, later ones add argument text. */
function addCallDeltas(deltas: unknown, calls: TappedCall[]): void {
  for (const d of Array.isArray(deltas) ? (deltas as unknown[]) : []) {
    if (!isRecord(d) || typeof d['index'] !== 'number') {
      continue;
    }
    const fn = isRecord(d['function']) ? d['function'] : {};
    const call = (calls[d['index']] ??= {
      id: '',
      type: 'function',
      function: { name: '', arguments: '' },
    });
    call.id = typeof d['id'] === 'string' ? d['id'] : call.id;
    call.function.name = typeof fn['name'] === 'string' ? fn['name'] : call.function.name;
    call.function.arguments += typeof fn['arguments'] === 'string' ? fn['arguments'] : '';
  }
}

function jsonTap(maxChars: number): AnswerTap {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= maxChars * 4) {
        chunks.push(chunk);
      }
    },
    answer() {
      const message = size > maxChars * 4 ? undefined : messageOf(chunks);
      const content = isRecord(message) ? message['content'] : undefined;
      if (content === null && Array.isArray(message?.['tool_calls'])) {
        // An answer that is only calls has null content; its key holds the calls.
        return '';
      }
      return typeof content === 'string' && content.length <= maxChars ? content : null;
    },
    toolCalls() {
      const message = size > maxChars * 4 ? undefined : messageOf(chunks);
      const calls: TappedCall[] = [];
      const given = isRecord(message) ? message['tool_calls'] : undefined;
      addCallDeltas(
        Array.isArray(given) ? given.map((c: unknown, index) => ({ ...(c as object), index })) : [],
        calls,
      );
      return calls;
    },
  };
}

function messageOf(chunks: readonly Buffer[]): Record<string, unknown> | undefined {
  const choice = firstChoice(parseJson(Buffer.concat(chunks).toString('utf8')));
  const message = isRecord(choice) ? choice['message'] : undefined;
  return isRecord(message) ? message : undefined;
}

function firstChoice(body: unknown): unknown {
  const choices = isRecord(body) ? body['choices'] : undefined;
  return Array.isArray(choices) ? (choices as unknown[])[0] : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
