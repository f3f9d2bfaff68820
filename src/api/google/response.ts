/**
 * Neutral answers -> GenerateContentResponse objects: one candidate whose parts are the
 * thoughts (`thought: true`), then text and one functionCall part per call (`args` parsed),
 * finishReason STOP or MAX_TOKENS (Gemini ends a call or a stop sequence with STOP), and
 * usageMetadata.
 */
import { randomBytes } from 'node:crypto';
import {
  summarize,
  type AnswerEvent,
  type AnswerSummary,
  type FinishReason,
  type ToolCall,
} from '../core/index.ts';
import type {
  GenerateContentResponse,
  GoogleFinishReason,
  GooglePart,
  GoogleUsageMetadata,
} from './wire.ts';

/** What every response chunk of one request shares. */
export interface ResponseBase {
  readonly responseId: string;
  /** The model that answered, as modelVersion. */
  readonly modelVersion: string;
}

/** Token counts of one exchange. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly thoughtTokens?: number;
}

/** A new responseId in Gemini's style (22 URL-safe characters). */
export function responseId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

/** The neutral finish reason in Gemini's words. */
export function googleFinishReason(reason: FinishReason): GoogleFinishReason {
  return reason === 'length' ? 'MAX_TOKENS' : 'STOP';
}

/**
 * A whole (non-streamed) answer from the pipeline's events (finish included): parts keep their
 * order (text after a call is its own part), as the stream has them.
 */
export function responseFromEvents(
  base: ResponseBase,
  events: readonly AnswerEvent[],
  usage: TokenUsage,
  thoughts = '',
): GenerateContentResponse {
  const parts: GooglePart[] = thoughts === '' ? [] : [{ text: thoughts, thought: true }];
  for (const event of events) {
    const last = parts.at(-1);
    if (event.type === 'text' && last !== undefined && 'text' in last && !last.thought) {
      last.text += event.text;
    } else if (event.type === 'text') {
      parts.push({ text: event.text });
    } else if (event.type === 'call_end') {
      parts.push(functionCallPart(event.call));
    }
  }
  const finishReason = googleFinishReason(summarize(events).reason);
  return responseChunk(base, parts.length > 0 ? parts : [{ text: '' }], { finishReason, usage });
}

/** A whole answer from its summary: thoughts, then all text, then the calls. */
export function responseFromSummary(
  base: ResponseBase,
  summary: AnswerSummary,
  usage: TokenUsage,
  thoughts = '',
): GenerateContentResponse {
  const parts: GooglePart[] = [
    ...(thoughts === '' ? [] : [{ text: thoughts, thought: true as const }]),
    ...(summary.text === '' ? [] : [{ text: summary.text }]),
    ...summary.calls.map(functionCallPart),
  ];
  return responseChunk(base, parts.length > 0 ? parts : [{ text: '' }], {
    finishReason: googleFinishReason(summary.reason),
    usage,
  });
}

/** One response (or streamed chunk) holding `parts`; the last one carries the finish. */
export function responseChunk(
  base: ResponseBase,
  parts: GooglePart[],
  end?: { finishReason: GoogleFinishReason; usage: TokenUsage },
): GenerateContentResponse {
  return {
    candidates: [
      {
        content: { role: 'model', parts },
        ...(end ? { finishReason: end.finishReason } : {}),
        index: 0,
      },
    ],
    ...(end ? { usageMetadata: usageMetadata(end.usage) } : {}),
    modelVersion: base.modelVersion,
    responseId: base.responseId,
  };
}

/** A functionCall part with the call's id; the arguments JSON becomes the `args` object. */
export function functionCallPart(
  call: Pick<ToolCall, 'name' | 'arguments'> & { readonly id?: string },
): GooglePart {
  const args = JSON.parse(call.arguments) as Record<string, unknown>;
  return {
    functionCall: { ...(call.id === undefined ? {} : { id: call.id }), name: call.name, args },
  };
}

/** usageMetadata; thoughts count toward the total as Gemini counts them. */
export function usageMetadata(usage: TokenUsage): GoogleUsageMetadata {
  const thoughts = usage.thoughtTokens ?? 0;
  return {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: usage.outputTokens,
    totalTokenCount: usage.inputTokens + usage.outputTokens + thoughts,
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  };
}
