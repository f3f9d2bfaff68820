/**
 * POST /v1/chat/completions. Validates everything before any upstream call, resolves the
 * conversation, then streams or collects the answer. A stream commits its 200 only when the first
 * answer text arrives; errors before that get their real status. Every response says in
 * x-upstream-sent whether the prompt may have reached Gemini (the gateway's failover rule).
 */
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import {
  InvalidRequestError,
  ModelNotFoundError,
  PayloadTooLargeError,
  UPSTREAM_SENT_HEADER,
  type AppError,
} from '../../errors.ts';
import { findModel, type GenerateEvent, type GenerateResult } from '../../gemini/index.ts';
import type { Logger } from '../../logging.ts';
import type { ChatBackend } from '../backend.ts';
import {
  chunk,
  completion,
  newIds,
  usageChunk,
  usageOf,
  type CompletionIds,
} from '../completion.ts';
import {
  conversationAfterTurn,
  planConversation,
  type ConversationPlan,
} from '../conversation-plan.ts';
import type { ConversationStore } from '../conversations.ts';
import type { ImageStore } from '../images.ts';
import { readInputs, type InputOptions } from '../inputs.ts';
import { stageInputs } from '../job-inputs.ts';
import { planPrompt, type PromptPlan } from '../prompt.ts';
import { messageImages, parseChatRequest, type ChatCompletionRequest } from '../schemas.ts';
import { SseWriter } from '../sse.ts';
import { untilDone } from '../until-done.ts';
import { renderImages } from '../answer-images.ts';
import { callerOf, requestIdOf } from '../../http/index.ts';

export interface ChatRouteDeps {
  readonly backend: ChatBackend;
  readonly conversations: ConversationStore;
  readonly images: ImageStore;
  readonly uploadsDir: string;
  /** Where input files wait for their job (DATA_DIR/inputs). */
  readonly inputsDir: string;
  readonly maxUploadBytes: number;
  /** Longest prompt accepted; longer gets 413 before it is queued. */
  readonly maxPromptChars: number;
  /** Silence after which a committed stream sends a `: keep-alive` comment. */
  readonly sseKeepAliveMs?: number;
  /** Image count cap and the image URL fetch's policy. */
  readonly inputOptions?: Partial<InputOptions>;
  readonly logger: Logger;
  readonly firstTokenSeconds?: { observe(seconds: number): void };
}

interface Turn {
  body: ChatCompletionRequest;
  plan: PromptPlan;
  cp: ConversationPlan;
  ids: CompletionIds;
  requestId: string;
  signal: AbortSignal;
  baseUrl: string;
  startedAt: number;
}

/** The express handler for chat completions. */
export function chatCompletionsHandler(deps: ChatRouteDeps) {
  return async function chatCompletions(req: Request, res: Response): Promise<void> {
    const body = parseChatRequest(req.body);
    const model = findModel(body.model);
    if (!model) {
      throw new ModelNotFoundError(body.model);
    }
    const plan = planPrompt(body.messages);
    const imageRefs = messageImages(plan.lastUser.content);
    if (plan.turnPrompt.trim() === '' && imageRefs.length === 0 && !body.files?.length) {
      throw new InvalidRequestError('The last user message is empty.', { param: 'messages' });
    }
    const caller = callerOf(res);
    const cp = fitPrompt(
      await planConversation(body.conversation_id, plan, deps.conversations, caller),
      deps.maxPromptChars,
    );
    const inputs = await readInputs(imageRefs, body.files ?? [], {
      uploadsDir: deps.uploadsDir,
      maxBytes: deps.maxUploadBytes,
      ...deps.inputOptions,
      caller,
    });
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) {
        abort.abort();
      }
    });
    const staged = await stageInputs(inputs, deps.inputsDir);
    const turn: Turn = {
      body,
      plan,
      cp,
      ids: newIds(model.name, cp.conversationId),
      requestId: requestIdOf(res) || randomUUID(),
      signal: abort.signal,
      // req.host: the Host the gateway passes on (the client's), so links point back at it; or
      // X-Forwarded-Host from a TRUST_PROXY peer.
      baseUrl: `${req.protocol}://${req.host}`,
      startedAt: performance.now(),
    };
    const events = deps.backend.stream(
      {
        requestId: turn.requestId,
        model,
        prompt: cp.prompt,
        inputs: staged.inputs,
        chat: cp.chat,
        replayPrompt: cp.replayPrompt,
        owner: cp.owner,
      },
      abort.signal,
    );
    res.setHeader('x-conversation-id', cp.conversationId);
    try {
      await (body.stream
        ? streamAnswer(turn, events, res, deps)
        : collectAnswer(turn, events, res, deps));
    } finally {
      await staged.cleanup();
    }
  };
}

/**
 * 413 for a prompt over the limit, before anything is queued. A replay prompt (the whole history,
 * used only if Gemini rejects the follow-up) over the limit is dropped rather than refused.
 */
function fitPrompt(cp: ConversationPlan, maxChars: number): ConversationPlan {
  if (cp.prompt.length > maxChars) {
    throw new PayloadTooLargeError(
      `The prompt is ${cp.prompt.length} characters; this server accepts at most ${maxChars}.`,
      { param: 'messages', code: 'prompt_too_long' },
    );
  }
  return (cp.replayPrompt?.length ?? 0) > maxChars ? { ...cp, replayPrompt: null } : cp;
}

async function finishTurn(
  turn: Turn,
  result: GenerateResult,
  deps: ChatRouteDeps,
): Promise<string> {
  const imageText = renderImages(result.images, turn.baseUrl);
  const answer = result.text + imageText;
  const { conversation, key } = conversationAfterTurn(
    turn.cp,
    turn.plan.lastUser,
    answer,
    turn.ids.model,
    result.chat,
  );
  // Not awaited: the store makes the next read wait for it, so the answer need not.
  deps.conversations.save(conversation, key).catch((err: unknown) => {
    deps.logger.warn('could not save the conversation', {
      err,
      conversationId: turn.cp.conversationId,
    });
  });
  return imageText;
}

/** Whether `err` is a cut after Gemini may have taken the prompt (never sent again). */
function isOutcomeUnknown(err: unknown): err is AppError {
  return (err as AppError | null)?.code === 'upstream_outcome_unknown';
}

async function collectAnswer(
  turn: Turn,
  events: AsyncIterable<GenerateEvent>,
  res: Response,
  deps: ChatRouteDeps,
): Promise<void> {
  let text = '';
  let thoughts = '';
  let result: GenerateResult;
  try {
    result = await untilDone(
      events,
      (ev) => {
        if (ev.type === 'text') {
          if (!text) {
            deps.firstTokenSeconds?.observe((performance.now() - turn.startedAt) / 1000);
          }
          text += ev.delta;
        } else if (ev.type === 'thought') {
          thoughts += ev.delta;
        }
      },
      deps.logger,
    );
  } catch (err) {
    if (!isOutcomeUnknown(err) || !text) {
      throw err;
    }
    // Cut after some text: the part that arrived, marked as cut off (never sent again).
    deps.logger.warn('answer cut off upstream; returning the text so far', {
      requestId: turn.requestId,
    });
    res.setHeader(UPSTREAM_SENT_HEADER, 'true');
    res.json(completion(turn.ids, text, thoughts, usageOf(turn.cp.prompt, text), 'length'));
    return;
  }
  const imageText = await finishTurn(turn, result, deps);
  const content = result.text + imageText;
  res.setHeader(UPSTREAM_SENT_HEADER, 'true');
  res.json(completion(turn.ids, content, result.thoughts, usageOf(turn.cp.prompt, content)));
}

async function streamAnswer(
  turn: Turn,
  events: AsyncIterable<GenerateEvent>,
  res: Response,
  deps: ChatRouteDeps,
): Promise<void> {
  const sse = new SseWriter(res, deps.sseKeepAliveMs);
  let first = true;
  const open = async (delta: { content?: string; reasoning_content?: string }) => {
    if (first) {
      deps.firstTokenSeconds?.observe((performance.now() - turn.startedAt) / 1000);
    }
    sse.start({ 'x-conversation-id': turn.cp.conversationId, [UPSTREAM_SENT_HEADER]: 'true' });
    await sse.send(chunk(turn.ids, first ? { role: 'assistant', ...delta } : delta));
    first = false;
  };
  try {
    const result = await untilDone(
      events,
      async (ev) => {
        if (ev.type === 'text' && ev.delta) {
          await open({ content: ev.delta });
        } else if (ev.type === 'thought' && ev.delta) {
          await open({ reasoning_content: ev.delta });
        }
      },
      deps.logger,
    );
    const imageText = await finishTurn(turn, result, deps);
    if (imageText || first) {
      await open({ content: imageText });
    }
    await sse.send(chunk(turn.ids, {}, 'stop'));
    if (turn.body.stream_options?.include_usage) {
      await sse.send(usageChunk(turn.ids, usageOf(turn.cp.prompt, result.text + imageText)));
    }
    await sse.done();
  } catch (err) {
    if (!sse.started) {
      throw err;
    }
    if (!turn.signal.aborted) {
      deps.logger.warn('stream failed after its first byte', { err, requestId: turn.requestId });
      await sse.fail(err);
    }
  }
}
