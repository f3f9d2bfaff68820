/**
 * @module gateway/dialect-taps
 * The answer of an Anthropic or Google response, read as it passes (see answer-tap.ts), in the
 * form the gateway keys the next turn by (dialect-request.ts): the answer's text parts joined
 * with nothing between them (thinking left out), and its calls. Whole or streamed, an answer
 * gives the same text and calls, so whichever way the client echoes it, its next turn finds it.
 */
import type { Dialect } from '../api/index.ts';
import {
  asString,
  bodyTap,
  createAnswerTap,
  isRecord,
  parseJson,
  sseTap,
  tappedCall,
  type AnswerTap,
  type TapState,
} from './answer-tap.ts';

/** The tap for a response of `dialect`, SSE or a JSON body (Google's JSON-array stream too). */
export function createDialectTap(dialect: Dialect, sse: boolean): AnswerTap {
  switch (dialect) {
    case 'openai':
      return createAnswerTap(sse ? 'sse' : 'json');
    case 'anthropic':
      return sse ? sseTap(anthropicEvents()) : bodyTap(anthropicMessage);
    case 'google':
      return sse ? sseTap(googleChunkData) : bodyTap(googleBody);
  }
}

/** Arguments of a call as the gateway keys them: `{}` when none were streamed. */
const argsOf = (input: unknown): string => JSON.stringify(input ?? {});

/**
 * Anthropic's event stream: text_delta adds text, a tool_use block opens a call that
 * input_json_delta fills; message_stop ends it, an `error` event breaks it.
 */
function anthropicEvents(): (data: string, state: TapState) => void {
  const callOfBlock = new Map<number, number>();
  return (data, state) => {
    const event = parseJson(data);
    const type = isRecord(event) ? event['type'] : undefined;
    if (!isRecord(event) || type === 'error') {
      state.broken = true;
    } else if (type === 'message_stop') {
      state.done = true;
      state.calls.forEach((c) => (c.function.arguments ||= '{}'));
    } else if (type === 'content_block_start' && typeof event['index'] === 'number') {
      const block = event['content_block'];
      if (isRecord(block) && block['type'] === 'tool_use') {
        callOfBlock.set(event['index'], state.calls.length);
        state.calls.push(tappedCall(asString(block['id']), asString(block['name'])));
      }
    } else if (type === 'content_block_delta' && isRecord(event['delta'])) {
      const delta = event['delta'];
      const call = state.calls[callOfBlock.get(Number(event['index'])) ?? -1];
      if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') {
        state.text += delta['text'];
      } else if (delta['type'] === 'input_json_delta' && call !== undefined) {
        call.function.arguments += asString(delta['partial_json']);
      }
    }
  };
}

/** A whole Message: its text blocks and tool_use blocks. */
function anthropicMessage(body: unknown, state: TapState): void {
  const content = isRecord(body) && body['type'] === 'message' ? body['content'] : undefined;
  if (!Array.isArray(content)) {
    state.broken = true;
    return;
  }
  for (const block of (content as unknown[]).filter(isRecord)) {
    if (block['type'] === 'text' && typeof block['text'] === 'string') {
      state.text += block['text'];
    } else if (block['type'] === 'tool_use') {
      const id = asString(block['id']);
      state.calls.push(tappedCall(id, asString(block['name']), argsOf(block['input'])));
    }
  }
  state.done = true;
}

/** One `alt=sse` chunk. */
function googleChunkData(data: string, state: TapState): void {
  googleChunk(parseJson(data), state);
}

/** A generateContent answer, or a streamed JSON array of chunks. */
function googleBody(body: unknown, state: TapState): void {
  for (const chunk of Array.isArray(body) ? (body as unknown[]) : [body]) {
    googleChunk(chunk, state);
  }
}

/**
 * One GenerateContentResponse (whole or a chunk): its first candidate's text parts (thoughts
 * left out) and functionCall parts; a finishReason ends the answer, an error element breaks it.
 */
function googleChunk(chunk: unknown, state: TapState): void {
  const candidates = isRecord(chunk) && !('error' in chunk) ? chunk['candidates'] : undefined;
  const candidate: unknown = Array.isArray(candidates) ? candidates[0] : undefined;
  if (!isRecord(candidate)) {
    // A chunk with no candidate (usage only, or prompt feedback) carries no answer text.
    state.broken ||= !isRecord(chunk) || 'error' in chunk;
    return;
  }
  const content = candidate['content'];
  const parts: unknown = isRecord(content) ? content['parts'] : undefined;
  for (const part of Array.isArray(parts) ? parts.filter(isRecord) : []) {
    const call = part['functionCall'];
    if (isRecord(call)) {
      state.calls.push(tappedCall('', asString(call['name']), argsOf(call['args'])));
    } else if (typeof part['text'] === 'string' && part['thought'] !== true) {
      state.text += part['text'];
    }
  }
  state.done ||= typeof candidate['finishReason'] === 'string';
}
