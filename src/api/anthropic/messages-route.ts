/**
 * POST /v1/messages and /v1/messages/count_tokens over the turn runner, the same core, queue and
 * conversation planning as /v1/chat/completions: a thin translation. Anthropic clients resend
 * the whole history, so a conversation continues natively by its history key. A stream commits
 * its 200 (with message_start) only when the first thing the client may see arrives; errors
 * before that get their real status in Anthropic's shape, and every response says in
 * x-upstream-sent whether the prompt may have reached Gemini (the gateway's failover rule).
 */
import type { Request, Response } from 'express';
import { ModelNotFoundError, UPSTREAM_SENT_HEADER } from '../../errors.ts';
import { findModel } from '../../gemini/index.ts';
import { countPromptTokens } from '../prompt-tokens.ts';
import {
  answerTurn,
  collectTurn,
  failStreamAfterCommit,
  prepareTurn,
  replyToTurn,
  type PreparedTurn,
  type TurnRouteDeps,
} from '../turn-route.ts';
import type { VisibleEvent } from '../turn-runner.ts';
import { messageFromSummary, messageId, type MessageBase } from './message.ts';
import { countMessageTokens, parseMessagesRequest, type ModelResolver } from './request.ts';
import { AnthropicSseWriter } from './sse-writer.ts';
import { MessagesStreamWriter, type AnthropicStreamEvent } from './stream.ts';
import { replyJson } from '../json-reply.ts';

/** The express handler for POST /v1/messages. */
export function messagesHandler(deps: TurnRouteDeps, resolveModel: ModelResolver) {
  const resolve = knownModels(resolveModel);
  return async function messages(req: Request, res: Response): Promise<void> {
    const request = parseMessagesRequest(req.body, resolve);
    const prepared = await prepareTurn(deps, req, res, {
      turn: request.turn,
      modelName: request.model,
      conversationId: null,
      files: [],
      partialOnCut: !request.stream,
    });
    res.setHeader('x-conversation-id', prepared.cp.conversationId);
    // The Message names the model the client asked for (a claude-* name stays one).
    const base: MessageBase = { id: messageId(), model: request.requestedModel };
    // The whole conversation, as count_tokens counts it: what a client budgets its context by.
    const inputTokens = countPromptTokens(request.turn);
    await replyToTurn(prepared, request.stream, {
      stream: () => streamMessage(deps, prepared, base, inputTokens, res),
      collect: () => collectMessage(deps, prepared, base, inputTokens, res),
    });
  };
}

/** The express handler for POST /v1/messages/count_tokens (nothing goes upstream). */
export function countTokensHandler(resolveModel: ModelResolver) {
  const resolve = knownModels(resolveModel);
  return function countTokens(req: Request, res: Response): void {
    res.json(countMessageTokens(req.body, resolve));
  };
}

/** The resolver, with a 404 naming the client's model when it resolves to none of ours. */
function knownModels(resolveModel: ModelResolver): ModelResolver {
  return (name) => {
    const resolved = resolveModel(name);
    if (findModel(resolved) === undefined) {
      throw new ModelNotFoundError(name);
    }
    return resolved;
  };
}

async function collectMessage(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  base: MessageBase,
  inputTokens: number,
  res: Response,
): Promise<void> {
  const { summary, thoughts, imageText } = await collectTurn(deps, prepared, res);
  replyJson(
    res,
    messageFromSummary(
      base,
      // One text block holding what is stored as the answer, so the resent history matches it.
      { ...summary, text: summary.text + imageText },
      { inputTokens, outputTokens: summary.outputTokens },
      thoughts,
    ),
  );
}

async function streamMessage(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  base: MessageBase,
  inputTokens: number,
  res: Response,
): Promise<void> {
  const sse = new AnthropicSseWriter(res, deps.sseKeepAliveMs);
  const writer = new MessagesStreamWriter(base, inputTokens);
  const emit = async (events: readonly AnthropicStreamEvent[]): Promise<void> => {
    if (!sse.started) {
      sse.start({
        'x-conversation-id': prepared.cp.conversationId,
        [UPSTREAM_SENT_HEADER]: 'true',
      });
      events = [...writer.start(), ...events];
    }
    for (const event of events) {
      await sse.sendEvent(event.type, event);
    }
  };
  const answer = (event: VisibleEvent) =>
    event.type === 'text' && event.text === '' ? undefined : emit(writer.push(event));
  try {
    const { summary, imageText } = await answerTurn(deps, prepared, {
      answer,
      thought: (delta) => emit(writer.thought(delta)),
    });
    await answer({ type: 'text', text: imageText });
    const { text: _text, ...finish } = summary;
    await emit(writer.push({ type: 'finish', ...finish }));
    sse.end();
  } catch (err) {
    await failStreamAfterCommit(deps, prepared, sse, err);
  }
}
