/**
 * POST /v1/chat/completions over the turn runner. Validates everything before any upstream call,
 * resolves the conversation, then streams or collects the answer. A stream commits its 200 only
 * when the first thing the client may see arrives; errors before that get their real status.
 * Every response says in x-upstream-sent whether the prompt may have reached Gemini (the
 * gateway's failover rule).
 */
import type { Request, Response } from 'express';
import { UPSTREAM_SENT_HEADER } from '../../errors.ts';
import { SseWriter } from '../sse.ts';
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
import { chatTurnOf } from './chat-request.ts';
import {
  chatFinishReason,
  chunk,
  completion,
  newIds,
  usageChunk,
  usageOf,
  type CompletionIds,
  type Delta,
} from './chat-output.ts';
import { parseChatRequest, type ChatCompletionRequest } from './chat-schema.ts';
import { replyJson } from '../json-reply.ts';

/** The express handler for chat completions. */
export function chatCompletionsHandler(deps: TurnRouteDeps) {
  return async function chatCompletions(req: Request, res: Response): Promise<void> {
    const body = parseChatRequest(req.body);
    const prepared = await prepareTurn(deps, req, res, {
      turn: chatTurnOf(body),
      modelName: body.model,
      conversationId: body.conversation_id,
      files: body.files ?? [],
      partialOnCut: !body.stream,
    });
    res.setHeader('x-conversation-id', prepared.cp.conversationId);
    const ids = newIds(prepared.model, prepared.cp.conversationId);
    await replyToTurn(prepared, body.stream === true, {
      stream: () => streamAnswer(deps, prepared, body, ids, res),
      collect: () => collectAnswer(deps, prepared, ids, res),
    });
  };
}

async function collectAnswer(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  ids: CompletionIds,
  res: Response,
): Promise<void> {
  const { summary, thoughts, imageText } = await collectTurn(deps, prepared, res);
  const text = summary.text + imageText;
  replyJson(
    res,
    completion(
      ids,
      { text, reasoning: thoughts, calls: summary.calls },
      usageOf(prepared.cp.prompt, summary.outputTokens),
      chatFinishReason(summary.reason),
    ),
  );
}

async function streamAnswer(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  body: ChatCompletionRequest,
  ids: CompletionIds,
  res: Response,
): Promise<void> {
  const sse = new SseWriter(res, deps.sseKeepAliveMs);
  let first = true;
  const send = async (delta: Delta): Promise<void> => {
    sse.start({ 'x-conversation-id': prepared.cp.conversationId, [UPSTREAM_SENT_HEADER]: 'true' });
    await sse.send(chunk(ids, first ? { role: 'assistant', ...delta } : delta));
    first = false;
  };
  try {
    const { summary, imageText } = await answerTurn(deps, prepared, {
      answer: async (event) => {
        const delta = deltaOf(event);
        if (delta) {
          await send(delta);
        }
      },
      thought: (delta) => send({ reasoning_content: delta }),
    });
    if (imageText || first) {
      await send({ content: imageText });
    }
    await sse.send(chunk(ids, {}, chatFinishReason(summary.reason)));
    if (body.stream_options?.include_usage) {
      await sse.send(usageChunk(ids, usageOf(prepared.cp.prompt, summary.outputTokens)));
    }
    await sse.done();
  } catch (err) {
    await failStreamAfterCommit(deps, prepared, sse, err);
  }
}

/** An answer event as OpenAI's delta: the call's first delta names it, the rest add arguments. */
function deltaOf(event: VisibleEvent): Delta | null {
  switch (event.type) {
    case 'text':
      return event.text === '' ? null : { content: event.text };
    case 'call_start':
      return {
        tool_calls: [
          {
            index: event.index,
            id: event.id,
            type: 'function',
            function: { name: event.name, arguments: '' },
          },
        ],
      };
    case 'call_arguments':
      return { tool_calls: [{ index: event.index, function: { arguments: event.delta } }] };
    case 'call_end':
      return null;
  }
}
