/**
 * Neutral answer events -> the Responses API's streamed event sequence, as the openai v6 SDK's
 * ResponseStream assembles it:
 *   response.created, response.in_progress,
 *   per message:  response.output_item.added, response.content_part.added,
 *                 response.output_text.delta…, response.output_text.done,
 *                 response.content_part.done, response.output_item.done
 *   per call:     response.output_item.added, response.function_call_arguments.delta…,
 *                 response.function_call_arguments.done, response.output_item.done
 *   response.completed (or response.incomplete when max_output_tokens cut it).
 * Every event carries a growing sequence_number. Pure: the route writes each event as SSE.
 */
import type {
  ResponseErrorEvent,
  ResponseFunctionToolCall,
  ResponseOutputItem,
  ResponseStreamEvent,
} from 'openai/resources/responses/responses';
import type { AnswerEvent } from '../core/index.ts';
import {
  completedResponse,
  functionCallItem,
  messageItem,
  outputText,
  pendingResponse,
  randomIds,
  type IdMaker,
  type ResponseBase,
  type TokenUsage,
} from './responses-output.ts';

/** An event before its sequence number is set. */
type Unnumbered<E> = E extends unknown ? Omit<E, 'sequence_number'> : never;

interface OpenMessage {
  id: string;
  index: number;
  text: string;
}

/** Translates one answer's events; `start` first, then `push` each event (finish included). */
export class ResponsesStreamWriter {
  private sequence = 0;
  private readonly output: ResponseOutputItem[] = [];
  private message: OpenMessage | null = null;
  private readonly calls = new Map<number, { item: ResponseFunctionToolCall; index: number }>();

  constructor(
    private readonly base: ResponseBase,
    private readonly usage: () => TokenUsage,
    private readonly ids: IdMaker = randomIds,
  ) {}

  /** response.created and response.in_progress. */
  start(): ResponseStreamEvent[] {
    const response = pendingResponse(this.base);
    return this.number([
      { type: 'response.created', response },
      { type: 'response.in_progress', response },
    ]);
  }

  /** The events for one neutral event. */
  push(event: AnswerEvent): ResponseStreamEvent[] {
    switch (event.type) {
      case 'text':
        return this.number(this.text(event.text));
      case 'call_start':
        return this.number(this.startCall(event.index, event.id, event.name));
      case 'call_arguments': {
        const open = this.calls.get(event.index);
        return open
          ? this.number([
              {
                type: 'response.function_call_arguments.delta',
                item_id: open.item.id ?? '',
                output_index: open.index,
                delta: event.delta,
              },
            ])
          : [];
      }
      case 'call_end':
        return this.number(this.endCall(event.index, event.call.arguments));
      case 'finish': {
        const closing = this.closeMessage();
        const response = completedResponse(this.base, this.output, event.reason, this.usage());
        const type =
          response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
        return this.number([...closing, { type, response }]);
      }
    }
  }

  /** An `error` event for a failure after the stream began (the SDK raises it). */
  error(message: string, code: string | null = null): ResponseErrorEvent {
    return { type: 'error', message, code, param: null, sequence_number: this.sequence++ };
  }

  private text(delta: string): Unnumbered<ResponseStreamEvent>[] {
    const events: Unnumbered<ResponseStreamEvent>[] = [];
    if (this.message === null) {
      const id = this.ids('msg_');
      const item = messageItem(id, '', 'in_progress');
      this.message = { id, index: this.output.push(item) - 1, text: '' };
      events.push(
        { type: 'response.output_item.added', output_index: this.message.index, item },
        {
          type: 'response.content_part.added',
          item_id: id,
          output_index: this.message.index,
          content_index: 0,
          part: outputText(''),
        },
      );
    }
    this.message.text += delta;
    events.push({
      type: 'response.output_text.delta',
      item_id: this.message.id,
      output_index: this.message.index,
      content_index: 0,
      delta,
      logprobs: [],
    });
    return events;
  }

  private startCall(
    callIndex: number,
    id: string,
    name: string,
  ): Unnumbered<ResponseStreamEvent>[] {
    const closing = this.closeMessage();
    const item = functionCallItem(this.ids('fc_'), { id, name, arguments: '' }, 'in_progress');
    const index = this.output.push(item) - 1;
    this.calls.set(callIndex, { item, index });
    return [...closing, { type: 'response.output_item.added', output_index: index, item }];
  }

  private closeMessage(): Unnumbered<ResponseStreamEvent>[] {
    const open = this.message;
    if (open === null) {
      return [];
    }
    this.message = null;
    const item = messageItem(open.id, open.text, 'completed');
    this.output[open.index] = item;
    const where = { item_id: open.id, output_index: open.index, content_index: 0 };
    return [
      { type: 'response.output_text.done', ...where, text: open.text, logprobs: [] },
      { type: 'response.content_part.done', ...where, part: outputText(open.text) },
      { type: 'response.output_item.done', output_index: open.index, item },
    ];
  }

  private endCall(callIndex: number, args: string): Unnumbered<ResponseStreamEvent>[] {
    const open = this.calls.get(callIndex);
    if (!open) {
      return [];
    }
    const item: ResponseFunctionToolCall = { ...open.item, arguments: args, status: 'completed' };
    this.output[open.index] = item;
    return [
      {
        type: 'response.function_call_arguments.done',
        item_id: item.id ?? '',
        output_index: open.index,
        name: item.name,
        arguments: args,
      },
      { type: 'response.output_item.done', output_index: open.index, item },
    ];
  }

  private number(events: Unnumbered<ResponseStreamEvent>[]): ResponseStreamEvent[] {
    return events.map((e) => ({ ...e, sequence_number: this.sequence++ }));
  }
}
