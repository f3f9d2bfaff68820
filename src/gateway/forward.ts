/**
 * @module gateway/forward
 * Relays the chosen node's response to the client, then binds the conversation to that node:
 * the request's own keys, the conversation id the worker answered, and the key of the next turn
 * (history + this answer), read off the body as it passed.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../logging.ts';
import { brokenAnswerTail, type AnswerFraming } from './broken-stream.ts';
import { createDialectTap } from './dialect-taps.ts';
import { responsesTap } from './responses-dialect.ts';
import { imageKey } from './owned-ids.ts';
import type { ChatRequest } from './chat-request.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { BindingStore, NodeRecord } from './types.ts';
import { forwardableHeaders, type AttemptResult } from './upstream.ts';

/** What forwardAnswer needs. */
export interface ForwardDeps {
  readonly bindings: BindingStore;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/** The response to relay and where it came from. */
export interface Forwarding {
  readonly chat: ChatRequest;
  readonly node: NodeRecord;
  readonly result: AttemptResult & { kind: 'response' };
  /** performance.now() at the request's start, for time to first byte. */
  readonly startedAt: number;
}

/** Relays the response (backpressured), then binds on a complete 2xx. */
export async function forwardAnswer(
  deps: ForwardDeps,
  res: ServerResponse,
  f: Forwarding,
): Promise<void> {
  const { result, chat } = f;
  const ok = result.status >= 200 && result.status < 300;
  const isSse = String(result.headers['content-type'] ?? '').startsWith('text/event-stream');
  const tap = !ok
    ? null
    : chat.responses
      ? responsesTap(isSse)
      : createDialectTap(chat.dialect, isSse);
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(forwardableHeaders(result.headers))) {
    res.setHeader(name, value);
  }
  let first = true;
  const end = await result.body.relayTo(res, (chunk) => {
    if (first) {
      first = false;
      const seconds = (performance.now() - f.startedAt) / 1000;
      deps.metrics.timeToFirstByte.observe({ stream: String(chat.stream) }, seconds);
    }
    tap?.push(chunk);
  });
  if (end === 'upstream_error') {
    // Google's streamGenerateContent without alt=sse is one JSON array, element by element.
    const array = chat.dialect === 'google' && chat.stream && !first;
    const framing = isSse ? 'sse' : array ? 'json-array' : 'other';
    endBroken(res, chat, framing, f.node, deps.logger);
    return;
  }
  if (end === 'done' && ok) {
    bindConversation(deps, f, tap?.answer() ?? null, tap?.toolCalls() ?? []);
  }
}

/** Image paths an answer links (`…/images/<path>`), as the worker renders generated images. */
export function linkedImages(answer: string): string[] {
  return [...answer.matchAll(/\/images\/([\w.-]+(?:\/[\w.-]+)*)/g)].map((m) => m[1] ?? '');
}

/**
 * Binds to the node: the request's keys, the worker's conversation id, the key of the turn this
 * answer ends (history + answer: a later regenerate or edit of the next turn continues from it),
 * and the images the answer links.
 */
function bindConversation(
  deps: ForwardDeps,
  f: Forwarding,
  answer: string | null,
  toolCalls: readonly unknown[],
): void {
  const keys = [...f.chat.keys];
  const conversationId = f.result.headers['x-conversation-id'];
  if (typeof conversationId === 'string' && conversationId !== '') {
    keys.push(conversationId);
  }
  if (answer !== null && f.chat.messages.length > 0) {
    keys.push(f.chat.keyAfter(answer, toolCalls));
  }
  if (answer !== null) {
    keys.push(...linkedImages(answer).map(imageKey));
  }
  if (keys.length === 0) {
    return;
  }
  // Off the response path: the client has its answer already.
  deps.bindings
    .save(keys, { nodeUrl: f.node.nodeUrl, account: f.node.account })
    .catch((err: unknown) => {
      deps.logger.warn('binding save failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    });
}

/**
 * The worker's connection broke mid-body. Bytes went out and the prompt went upstream, so no
 * retry: a stream ends with an error in the dialect's framing (the SDK raises it); anything
 * else is cut so the client sees an error.
 */
function endBroken(
  res: ServerResponse,
  chat: ChatRequest,
  framing: AnswerFraming,
  node: NodeRecord,
  logger: Logger,
): void {
  logger.warn('worker node connection broke mid-answer', { node: node.nodeUrl });
  const tail = brokenAnswerTail(chat.dialect, framing);
  if (tail !== null && !res.destroyed) {
    res.end(tail);
    return;
  }
  res.destroy();
}
