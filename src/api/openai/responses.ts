/**
 * POST /v1/responses over the turn runner, non-streamed and streamed (the Responses API's event
 * sequence). Every response is stored as a conversation under its own id, so
 * `previous_response_id` continues the Gemini chat natively from exactly that response (a
 * branch when an older one is named); an unknown one is a 404.
 */
import type { Request, Response } from 'express';
import { NotFoundError, UPSTREAM_SENT_HEADER } from '../../errors.ts';
import { estimateTokens } from '../core/index.ts';
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
import { parseResponsesRequest, type ResponsesRequest } from './responses-request.ts';
import { randomIds, responseFromSummary, type ResponseBase } from './responses-output.ts';
import { ResponsesStreamWriter } from './responses-stream.ts';
import { replyJson } from '../json-reply.ts';

/** The express handler for the Responses API. */
export function responsesHandler(deps: TurnRouteDeps) {
  return async function responses(req: Request, res: Response): Promise<void> {
    const request = parseResponsesRequest(req.body);
    const previous = request.previousResponseId;
    if (previous !== null && (await deps.conversations.get(previous)) === null) {
      throw new NotFoundError(`Previous response with id '${previous}' not found.`, {
        param: 'previous_response_id',
      });
    }
    const base: ResponseBase = {
      id: randomIds('resp_'),
      createdAt: Math.floor(Date.now() / 1000),
      request,
    };
    const prepared = await prepareTurn(deps, req, res, {
      turn: request.turn,
      modelName: request.model,
      conversationId: previous,
      onlyNewTurn: previous !== null,
      saveAs: base.id,
      files: [],
      partialOnCut: !request.stream,
    });
    res.setHeader('x-conversation-id', base.id);
    await replyToTurn(prepared, request.stream, {
      stream: () => streamResponse(deps, prepared, base, res),
      collect: () => collectResponse(deps, prepared, base, res),
    });
  };
}

async function collectResponse(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  base: ResponseBase,
  res: Response,
): Promise<void> {
  const { summary, imageText } = await collectTurn(deps, prepared, res);
  replyJson(
    res,
    responseFromSummary(
      { ...base, request: withModel(base.request, prepared.model) },
      { ...summary, text: summary.text + imageText },
      { inputTokens: estimateTokens(prepared.cp.prompt), outputTokens: summary.outputTokens },
    ),
  );
}

async function streamResponse(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  base: ResponseBase,
  res: Response,
): Promise<void> {
  const sse = new SseWriter(res, deps.sseKeepAliveMs);
  let outputTokens = 0;
  const writer = new ResponsesStreamWriter(
    { ...base, request: withModel(base.request, prepared.model) },
    () => ({ inputTokens: estimateTokens(prepared.cp.prompt), outputTokens }),
  );
  const emit = async (events: ReturnType<ResponsesStreamWriter['start']>): Promise<void> => {
    if (!sse.started) {
      sse.start({ 'x-conversation-id': base.id, [UPSTREAM_SENT_HEADER]: 'true' });
      events = [...writer.start(), ...events];
    }
    for (const event of events) {
      await sse.sendEvent(event.type, event);
    }
  };
  try {
    const { summary, imageText } = await answerTurn(deps, prepared, {
      answer: (event) => emit(writer.push(event)),
      thought: () => undefined,
    });
    if (imageText !== '') {
      await emit(writer.push({ type: 'text', text: imageText }));
    }
    outputTokens = summary.outputTokens;
    const { text: _text, ...finish } = summary;
    await emit(writer.push({ type: 'finish', ...finish }));
    sse.end();
  } catch (err) {
    await failStreamAfterCommit(deps, prepared, sse, err);
  }
}

/** The Response names the model that answered (an alias resolved). */
function withModel(request: ResponsesRequest, model: string): ResponsesRequest {
  return { ...request, model };
}
