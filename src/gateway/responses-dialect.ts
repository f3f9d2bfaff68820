/**
 * @module gateway/responses-dialect
 * What the gateway reads of OpenAI's Responses API to give a stateless client (one that resends
 * its whole `input` instead of a previous_response_id, as Codex does) the affinity a chat client
 * has: the history in OpenAI's message shape, which the history key is taken over, and the
 * answer off the response, which keys the next turn. As for Anthropic and Google
 * (dialect-request.ts), the key needs only be the gateway's own, so one rule serves both sides:
 * an answer's items (messages and function calls, however a stream split them) are one
 * assistant turn, its texts joined with nothing between them and its calls in order.
 */
import type { KeyedMessage } from '../history-key.ts';
import {
  asString,
  assistantTurn,
  bodyTap,
  isRecord,
  parseJson,
  records,
  sseTap,
  tappedCall,
  textParts,
  type AnswerTap,
  type TapState,
  type TappedCall,
} from './answer-tap.ts';

/** The texts of a message item's content (a string, or its text parts). */
const textsOf = (content: unknown): string[] =>
  typeof content === 'string' ? [content] : textParts(records(content));

const callOf = (item: Record<string, unknown>): TappedCall =>
  tappedCall(asString(item['call_id']), asString(item['name']), asString(item['arguments']));

/** `instructions` and `input` as the history a chat client would send. */
export function responsesHistory(fields: Record<string, unknown>): KeyedMessage[] {
  const messages: KeyedMessage[] = [];
  if (typeof fields['instructions'] === 'string') {
    messages.push({ role: 'system', content: fields['instructions'] });
  }
  const input = fields['input'];
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
    return messages;
  }
  let answer: { texts: string[]; calls: TappedCall[] } | null = null;
  const endAnswer = (): void => {
    if (answer) {
      messages.push(assistantTurn(answer.texts, answer.calls));
      answer = null;
    }
  };
  for (const item of records(input)) {
    const type = item['type'] ?? 'message';
    if (type === 'function_call' || (type === 'message' && item['role'] === 'assistant')) {
      answer ??= { texts: [], calls: [] };
      if (type === 'function_call') {
        answer.calls.push(callOf(item));
      } else {
        answer.texts.push(...textsOf(item['content']));
      }
    } else if (type === 'function_call_output') {
      endAnswer();
      const output = item['output'];
      messages.push({
        role: 'tool',
        tool_call_id: asString(item['call_id']),
        content: typeof output === 'string' ? output : textsOf(output).join(''),
      });
    } else if (type === 'message') {
      endAnswer();
      messages.push({ role: asString(item['role']), content: textsOf(item['content']).join('') });
    }
  }
  endAnswer();
  return messages;
}

/** The tap for a Responses answer: the Response body, or its stream's last event. */
export function responsesTap(sse: boolean): AnswerTap {
  return sse ? sseTap(responsesEvent) : bodyTap(readResponse);
}

/** The stream's `response.completed` (or `.incomplete`) carries the whole Response. */
function responsesEvent(data: string, state: TapState): void {
  const event = parseJson(data);
  const type = isRecord(event) ? event['type'] : undefined;
  if (!isRecord(event) || type === 'error' || type === 'response.failed') {
    state.broken = true;
  } else if (type === 'response.completed' || type === 'response.incomplete') {
    readResponse(event['response'], state);
  }
}

/** A Response: its output's texts and calls, in order, once it is complete (or cut short). */
function readResponse(response: unknown, state: TapState): void {
  const status = isRecord(response) ? response['status'] : undefined;
  if (!isRecord(response) || (status !== 'completed' && status !== 'incomplete')) {
    state.broken = true;
    return;
  }
  for (const item of records(response['output'])) {
    if (item['type'] === 'message') {
      state.text += textsOf(item['content']).join('');
    } else if (item['type'] === 'function_call') {
      state.calls.push(callOf(item));
    }
  }
  state.done = true;
}
