/**
 * The Gemini API's routes over the turn runner: `POST /v1beta/models/{model}:{method}` (the
 * method is parsed from the path segment: generateContent, streamGenerateContent in both
 * framings, countTokens) and `GET /v1beta/models[/{model}]`. Everything is checked before
 * anything is queued; a stream commits its 200 only with its first chunk, so errors before that
 * get their real status in Google's shape (app.ts's error handler), and every generate response
 * says in x-upstream-sent whether the prompt may have reached Gemini.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { ModelNotFoundError, UPSTREAM_SENT_HEADER } from '../../errors.ts';
import { findModel, MODELS, type ModelSpec } from '../../gemini/index.ts';
import { estimateTokens } from '../core/index.ts';
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
import { countGoogleTokens, googleModel, googleModelList, parseModelAction } from './models.ts';
import { parseGenerateContentRequest, type GenerateContentRequest } from './request.ts';
import { responseFromSummary, responseId, type ResponseBase } from './response.ts';
import { GenerateContentStreamWriter, streamFramingOf, type StreamFraming } from './stream.ts';
import { GoogleStreamWriter } from './stream-writer.ts';
import type { GenerateContentResponse } from './wire.ts';
import { replyJson } from '../json-reply.ts';

/** The path of the POST route that runs `modelActionHandler` (app.ts mounts it). */
export const MODEL_ACTION_PATH = '/v1beta/models/:action';

/** The /v1beta GET routes (the model list and one model). */
export function googleRouter(): express.Router {
  const router = express.Router();
  router.get('/v1beta/models', (_req: Request, res: Response) => {
    res.json(googleModelList(MODELS.map(modelInfo)));
  });
  router.get('/v1beta/models/:model', (req: Request<{ model: string }>, res: Response) => {
    res.json(googleModel(modelInfo(requireModel(req.params.model))));
  });
  return router;
}

/** Marks POSTs under /v1beta/models as not sent upstream until the route knows better. */
export function googleUpstreamDefault(req: Request, res: Response, next: () => void): void {
  if (req.method === 'POST') {
    res.setHeader(UPSTREAM_SENT_HEADER, 'false');
  }
  next();
}

function modelInfo(m: ModelSpec) {
  return { id: m.name, ...(m.description === undefined ? {} : { description: m.description }) };
}

function requireModel(name: string): ModelSpec {
  const model = findModel(name.replace(/^models\//, ''));
  if (!model) {
    throw new ModelNotFoundError(name);
  }
  return model;
}

/** POST /v1beta/models/{model}:{method}, after its body was parsed. */
export function modelActionHandler(deps: TurnRouteDeps): RequestHandler {
  return async function modelAction(req: Request, res: Response) {
    const { model, method } = parseModelAction(actionOf(req));
    if (method === 'countTokens') {
      requireModel(model);
      res.json(countGoogleTokens(req.body, model));
      return;
    }
    const request = parseGenerateContentRequest(req.body, model);
    const stream = method === 'streamGenerateContent';
    const prepared = await prepareTurn(deps, req, res, {
      turn: request.turn,
      modelName: request.model,
      // Google's clients resend the whole history: it finds the conversation it continues.
      conversationId: null,
      files: [],
      partialOnCut: !stream,
    });
    res.setHeader('x-conversation-id', prepared.cp.conversationId);
    const answer = {
      deps,
      prepared,
      request,
      base: { responseId: responseId(), modelVersion: prepared.model },
    };
    await replyToTurn(prepared, stream, {
      stream: () => streamAnswer(answer, streamFramingOf(req.query['alt']), res),
      collect: () => collectAnswer(answer, res),
    });
  };
}

/** The `{model}:{method}` segment: MODEL_ACTION_PATH names it (one segment, a string). */
function actionOf(req: Request): string {
  const action = req.params['action'];
  return typeof action === 'string' ? action : '';
}

/** One generate call in progress. */
interface Answering {
  readonly deps: TurnRouteDeps;
  readonly prepared: PreparedTurn;
  readonly request: GenerateContentRequest;
  readonly base: ResponseBase;
}

async function collectAnswer(a: Answering, res: Response): Promise<void> {
  const { summary, thoughts, imageText } = await collectTurn(a.deps, a.prepared, res);
  replyJson(
    res,
    responseFromSummary(
      a.base,
      { ...summary, text: summary.text + imageText },
      {
        inputTokens: countPromptTokens(a.request.turn),
        outputTokens: summary.outputTokens,
        thoughtTokens: estimateTokens(thoughts),
      },
      thoughts,
    ),
  );
}

async function streamAnswer(a: Answering, framing: StreamFraming, res: Response): Promise<void> {
  const out = new GoogleStreamWriter(res, framing, a.deps.sseKeepAliveMs);
  const chunks = new GenerateContentStreamWriter(a.base, countPromptTokens(a.request.turn));
  const send = async (list: readonly GenerateContentResponse[]): Promise<void> => {
    for (const chunk of list) {
      out.start({
        'x-conversation-id': a.prepared.cp.conversationId,
        [UPSTREAM_SENT_HEADER]: 'true',
      });
      await out.send(chunk);
    }
  };
  try {
    const { summary, thoughts, imageText } = await answerTurn(a.deps, a.prepared, {
      answer: (event: VisibleEvent) =>
        event.type === 'text' && event.text === '' ? undefined : send(chunks.push(event)),
      thought: (delta) => send(chunks.thought(delta)),
    });
    if (imageText !== '') {
      await send(chunks.push({ type: 'text', text: imageText }));
    }
    await send(chunks.push({ ...summary, type: 'finish' }, estimateTokens(thoughts)));
    out.end();
  } catch (err) {
    await failStreamAfterCommit(a.deps, a.prepared, out, err);
  }
}
