/**
 * POST /v1/completions (legacy text completions) over the turn runner: `prompt` (a string or an
 * array of one string) becomes one user message; `max_tokens`, `stop` and `stream` are honoured,
 * as text_completion objects (streamed: text_completion chunks, then [DONE]). OpenAI's default
 * of 16 tokens is not applied: without max_tokens the answer is not cut.
 * POST /v1/embeddings is answered with a clear 404: Gemini web has no embeddings.
 */
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InvalidRequestError, NotFoundError, UPSTREAM_SENT_HEADER } from '../../errors.ts';
import { DEFAULT_TURN, type ChatTurn } from '../core/index.ts';
import { requireJsonObject } from '../request-body.ts';
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
import { chatFinishReason, usageOf } from './chat-output.ts';
import { zodError } from './chat-schema.ts';
import { replyJson } from '../json-reply.ts';

const completionRequest = z.looseObject({
  model: z.string().min(1).default('gemini-default'),
  prompt: z.union([
    z.string(),
    z.array(z.string()).length(1, 'prompt: only one prompt per request is supported'),
  ]),
  max_tokens: z.number().int().positive().nullish(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4, 'stop holds at most 4 sequences')])
    .nullish(),
  stream: z.boolean().nullish(),
  n: z.number().int().positive().nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
});

/** The express handler for legacy completions. */
export function completionsHandler(deps: TurnRouteDeps) {
  return async function completions(req: Request, res: Response): Promise<void> {
    const body = parse(req.body);
    const prompt = typeof body.prompt === 'string' ? body.prompt : (body.prompt[0] ?? '');
    const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
    const turn: ChatTurn = {
      ...DEFAULT_TURN,
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
      stop: stop.filter((s) => s !== ''),
      maxTokens: body.max_tokens ?? null,
    };
    const prepared = await prepareTurn(deps, req, res, {
      turn,
      modelName: body.model,
      conversationId: null,
      files: [],
      partialOnCut: !body.stream,
    });
    const envelope = {
      id: `cmpl-${randomUUID().replace(/-/g, '')}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: prepared.model,
    };
    const choice: ChoiceOf = (text, finish) => ({
      ...envelope,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    });
    res.setHeader('x-conversation-id', prepared.cp.conversationId);
    await replyToTurn(prepared, body.stream === true, {
      stream: () => streamCompletion(deps, prepared, choice, res),
      collect: async () => {
        const { summary, imageText } = await collectTurn(deps, prepared, res);
        replyJson(res, {
          ...choice(summary.text + imageText, chatFinishReason(summary.reason)),
          usage: usageOf(prepared.cp.prompt, summary.outputTokens),
        });
      },
    });
  };
}

/** A text_completion object holding `text`. */
type ChoiceOf = (text: string, finish: string | null) => object;

async function streamCompletion(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  choice: ChoiceOf,
  res: Response,
): Promise<void> {
  const sse = new SseWriter(res, deps.sseKeepAliveMs);
  const send = async (text: string): Promise<void> => {
    sse.start({ [UPSTREAM_SENT_HEADER]: 'true' });
    await sse.send(choice(text, null));
  };
  try {
    const { summary, imageText } = await answerTurn(deps, prepared, {
      answer: (event) =>
        event.type === 'text' && event.text !== '' ? send(event.text) : undefined,
      thought: () => undefined,
    });
    await send(imageText);
    await sse.send(choice('', chatFinishReason(summary.reason)));
    await sse.done();
  } catch (err) {
    await failStreamAfterCommit(deps, prepared, sse, err);
  }
}

/** POST /v1/embeddings: not offered, said clearly in OpenAI's shape. */
export function embeddingsHandler() {
  return function embeddings(): never {
    throw new NotFoundError(
      'Embeddings are not supported: this service answers through the Gemini web app, which has no embeddings.',
      { code: 'unsupported_endpoint', param: null },
    );
  };
}

function parse(raw: unknown): z.infer<typeof completionRequest> {
  const result = completionRequest.safeParse(requireJsonObject(raw));
  if (!result.success) {
    throw zodError(result.error);
  }
  if ((result.data.n ?? 1) > 1) {
    throw new InvalidRequestError('n: only n=1 is supported.', { param: 'n' });
  }
  return result.data;
}
