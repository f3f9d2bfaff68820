/**
 * @module gateway/broken-stream
 * The end the gateway writes when a worker's connection breaks after the answer began. Bytes
 * went out and the prompt went upstream, so there is no retry: the client gets an error in its
 * own dialect's stream framing, which its SDK raises, instead of an answer that looks complete.
 */
import { errorShaperOf, type Dialect } from '../api/index.ts';
import { UpstreamError } from '../errors.ts';
import { OUTCOME_UNKNOWN_CODE } from './failed-attempt.ts';

/** How the answer was framed on the wire. */
export type AnswerFraming = 'sse' | 'json-array' | 'other';

/** The error an answer cut by the worker's connection ends with. */
export function brokenAnswerError(): UpstreamError {
  return new UpstreamError(
    'The worker node connection broke mid-answer; the answer is incomplete. The prompt reached Gemini: sending it again would answer it twice.',
    { code: OUTCOME_UNKNOWN_CODE },
  );
}

/**
 * The bytes that close a broken answer with an error, or null when the framing has none (the
 * connection is then cut). Each begins by closing whatever event or element the break cut.
 *   openai SSE:    `data: {error}` then `data: [DONE]`
 *   anthropic SSE: `event: error` with `{type:"error", error}`
 *   google SSE:    a `data:` chunk holding `{error}`; google JSON array: a last `{error}` element
 */
export function brokenAnswerTail(dialect: Dialect, framing: AnswerFraming): string | null {
  const body = JSON.stringify(errorShaperOf(dialect)(brokenAnswerError()).body);
  if (framing === 'sse') {
    switch (dialect) {
      case 'openai':
        return `\n\ndata: ${body}\n\ndata: [DONE]\n\n`;
      case 'anthropic':
        return `\n\nevent: error\ndata: ${body}\n\n`;
      case 'google':
        return `\r\n\r\ndata: ${body}\r\n\r\n`;
    }
  }
  return framing === 'json-array' ? `\r\n,${body}]` : null;
}
