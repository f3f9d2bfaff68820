/**
 * Neutral answer events -> streamGenerateContent chunks, and the two ways Gemini's API frames
 * them: `alt=sse` (`data: <json>` events, what @google/genai asks for) and, without `alt`, one
 * JSON array streamed element by element (`[{…}\r\n,{…}]`). Text goes out as it comes; a
 * call goes out whole in one chunk once it is complete (Gemini never splits a functionCall);
 * the last chunk carries finishReason and usageMetadata.
 */
import type { AnswerEvent } from '../core/index.ts';
import {
  functionCallPart,
  googleFinishReason,
  responseChunk,
  type ResponseBase,
  type TokenUsage,
} from './response.ts';
import type { GenerateContentResponse, GoogleErrorBody } from './wire.ts';

/** Translates one answer's events into response chunks: `thought`/`push` each, finish included. */
export class GenerateContentStreamWriter {
  constructor(
    private readonly base: ResponseBase,
    private readonly inputTokens: number,
  ) {}

  /** A chunk of the model's thoughts. */
  thought(delta: string): GenerateContentResponse[] {
    return [responseChunk(this.base, [{ text: delta, thought: true }])];
  }

  /** The chunks for one neutral event. */
  push(event: AnswerEvent, thoughtTokens = 0): GenerateContentResponse[] {
    switch (event.type) {
      case 'text':
        return [responseChunk(this.base, [{ text: event.text }])];
      case 'call_end':
        return [responseChunk(this.base, [functionCallPart(event.call)])];
      case 'finish': {
        const usage: TokenUsage = {
          inputTokens: this.inputTokens,
          outputTokens: event.outputTokens,
          thoughtTokens,
        };
        return [
          responseChunk(this.base, [{ text: '' }], {
            finishReason: googleFinishReason(event.reason),
            usage,
          }),
        ];
      }
      default:
        return [];
    }
  }
}

/** How a streamGenerateContent reply is framed: by `alt=sse`, or as a JSON array. */
export type StreamFraming = 'sse' | 'json';

/** Writes the frames of one reply; `end` or `error` closes it. */
export interface StreamFramer {
  readonly contentType: string;
  /** One chunk as it goes on the wire. */
  frame(chunk: GenerateContentResponse): string;
  /** Closes the reply normally. */
  end(): string;
  /** Closes the reply with an error element (the SDK raises a chunk holding `error`). */
  error(body: GoogleErrorBody): string;
}

/** The framer for `?alt=sse` (`sse`) or its absence (`json`). */
export function createStreamFramer(framing: StreamFraming): StreamFramer {
  if (framing === 'sse') {
    const event = (data: unknown): string => `data: ${JSON.stringify(data)}\r\n\r\n`;
    return { contentType: 'text/event-stream', frame: event, end: () => '', error: event };
  }
  let started = false;
  const element = (data: unknown): string => {
    const lead = started ? '\r\n,' : '[';
    started = true;
    return `${lead}${JSON.stringify(data)}`;
  };
  return {
    contentType: 'application/json',
    frame: element,
    end: () => `${started ? '' : '['}]`,
    error: (body) => `${element(body)}]`,
  };
}

/** `alt=sse` in a query -> sse framing; anything else -> the JSON array. */
export function streamFramingOf(alt: unknown): StreamFraming {
  return alt === 'sse' ? 'sse' : 'json';
}
