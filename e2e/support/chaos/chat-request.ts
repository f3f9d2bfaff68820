/**
 * One chat request through the official SDK, judged by what the client got: a complete answer
 * (the prompt's echo and the emulator's fixed tail, finish_reason 'stop'), an OpenAI-shaped error
 * (an HTTP status, or an error event in a stream), or a violation (a hang, a truncated answer
 * presented as complete, a cut connection, an error that is not OpenAI's shape).
 */
import OpenAI from 'openai';
import { ANSWER_TAIL } from '../../../src/emulator/index.ts';

/** The model every chaos request asks for. */
export const CHAOS_MODEL = 'gemini-2.5-flash';

/** How one request ended. Only the first three kinds are allowed. */
export type OutcomeKind =
  'ok' | 'http_error' | 'stream_error' | 'hang' | 'truncated' | 'connection_cut' | 'unshaped_error';

/** The kinds a request may end with: a complete answer or an OpenAI-shaped error. */
export const ALLOWED_KINDS: ReadonlySet<OutcomeKind> = new Set([
  'ok',
  'http_error',
  'stream_error',
]);

/** One line per request that ended in a violation. */
export function describeViolations(outcomes: readonly ChatOutcome[]): string[] {
  return outcomes
    .filter((o) => !ALLOWED_KINDS.has(o.kind))
    .map((o) => `#${o.index} ${o.stream ? 'stream' : 'whole'} ${o.kind}: ${o.detail ?? ''}`);
}

/** One request's result. */
export interface ChatOutcome {
  readonly index: number;
  readonly prompt: string;
  readonly stream: boolean;
  readonly kind: OutcomeKind;
  /** HTTP status of an http_error. */
  readonly status: number | null;
  /** The OpenAI error code, if any. */
  readonly code: string | null;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  /** Why a violation is one (for the failure message). */
  readonly detail: string | null;
}

type Verdict = Pick<ChatOutcome, 'kind' | 'status' | 'code' | 'detail'>;

/** An error thrown while reading a stream whose 200 had arrived. */
class MidStreamError extends Error {
  constructor(readonly inner: unknown) {
    super('error mid-stream');
  }
}

/** Sends one request and judges it; never throws, never waits past `timeoutMs`. */
export async function runChat(
  client: OpenAI,
  req: { index: number; prompt: string; stream: boolean; timeoutMs: number },
): Promise<ChatOutcome> {
  const startedAtMs = Date.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  let verdict: Verdict;
  try {
    const answer = req.stream
      ? await streamed(client, req.prompt, controller.signal)
      : await whole(client, req.prompt, controller.signal);
    verdict = timedOut ? hang(req.timeoutMs) : judgeAnswer(req.prompt, answer);
  } catch (err) {
    verdict = timedOut ? hang(req.timeoutMs) : judgeError(err);
  } finally {
    clearTimeout(timer);
  }
  return {
    index: req.index,
    prompt: req.prompt,
    stream: req.stream,
    startedAtMs,
    endedAtMs: Date.now(),
    ...verdict,
  };
}

interface Answer {
  readonly text: string;
  readonly finishReason: string | null;
}

async function whole(client: OpenAI, prompt: string, signal: AbortSignal): Promise<Answer> {
  const completion = await client.chat.completions.create(
    { model: CHAOS_MODEL, messages: [{ role: 'user', content: prompt }] },
    { signal },
  );
  const choice = completion.choices[0];
  return { text: choice?.message.content ?? '', finishReason: choice?.finish_reason ?? null };
}

async function streamed(client: OpenAI, prompt: string, signal: AbortSignal): Promise<Answer> {
  const stream = await client.chat.completions.create(
    { model: CHAOS_MODEL, messages: [{ role: 'user', content: prompt }], stream: true },
    { signal },
  );
  let text = '';
  let finishReason: string | null = null;
  try {
    // An abort ends this loop quietly (the SDK's choice): the caller's timer tells a hang.
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? '';
      finishReason = choice?.finish_reason ?? finishReason;
    }
  } catch (err) {
    throw new MidStreamError(err);
  }
  return { text, finishReason };
}

function hang(timeoutMs: number): Verdict {
  return { kind: 'hang', status: null, code: null, detail: `no end within ${timeoutMs} ms` };
}

/** Complete: finish_reason 'stop', the prompt echoed, and the answer's fixed tail at the end. */
export function judgeAnswer(prompt: string, answer: Answer): Verdict {
  const complete =
    answer.finishReason === 'stop' &&
    answer.text.includes(prompt) &&
    answer.text.trimEnd().endsWith(ANSWER_TAIL);
  if (complete) {
    return { kind: 'ok', status: null, code: null, detail: null };
  }
  const detail = `finish_reason=${String(answer.finishReason)}, ${answer.text.length} chars: ${JSON.stringify(answer.text.slice(-80))}`;
  return { kind: 'truncated', status: null, code: null, detail };
}

/** Sorts a thrown error into an allowed error kind or a violation. */
export function judgeError(err: unknown): Verdict {
  const midStream = err instanceof MidStreamError;
  const inner = midStream ? err.inner : err;
  if (inner instanceof OpenAI.APIConnectionError || !(inner instanceof OpenAI.APIError)) {
    const detail = inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
    return { kind: 'connection_cut', status: null, code: null, detail };
  }
  const code = typeof inner.code === 'string' ? inner.code : null;
  const status: unknown = inner.status;
  if (!isOpenAIErrorBody(inner.error)) {
    const detail = `status ${String(status)} without an OpenAI error body: ${inner.message}`;
    return {
      kind: 'unshaped_error',
      status: typeof status === 'number' ? status : null,
      code,
      detail,
    };
  }
  if (midStream && status === undefined) {
    return { kind: 'stream_error', status: null, code, detail: null };
  }
  if (typeof status === 'number') {
    return { kind: 'http_error', status, code, detail: null };
  }
  return { kind: 'unshaped_error', status: null, code, detail: `no status: ${inner.message}` };
}

/** `{message, type, param, code}` as OpenAI sends in `error`. */
function isOpenAIErrorBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) {
    return false;
  }
  const keys = ['message', 'type', 'param', 'code'];
  const record = body as Record<string, unknown>;
  return keys.every((k) => k in record) && typeof record['message'] === 'string';
}
