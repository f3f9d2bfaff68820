/**
 * What every dialect's route does around the turn runner: everything is checked before anything
 * is queued (model, conversation, prompt size, inputs), the input files are staged for the job,
 * and after the answer the conversation is saved with the chat the last answer returned.
 */
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { ImageStore } from './images.ts';
import { InvalidRequestError, ModelNotFoundError, PayloadTooLargeError } from '../errors.ts';
import { STATIC_MODEL_CATALOG, type GenerateResult, type ModelCatalog } from '../gemini/index.ts';
import { callerOf, requestIdOf } from '../http/index.ts';
import type { Logger } from '../logging.ts';
import { renderImages } from './answer-images.ts';
import type { ChatBackend } from './backend.ts';
import {
  conversationAfterTurn,
  planConversation,
  type ConversationPlan,
  type TurnAnswer,
} from './conversation-plan.ts';
import type { ConversationStore } from './conversations.ts';
import type { ChatTurn } from './core/index.ts';
import { readInputs, type InputOptions } from './inputs.ts';
import { stageInputs } from './job-inputs.ts';
import type { SseWriter } from './sse.ts';
import { runTurn, type TurnResult, type TurnRun, type TurnSink } from './turn-runner.ts';

/** What a turn route needs. */
export interface TurnRouteDeps {
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
  /** The models the account can use (discovery); the code table when absent. */
  readonly models?: ModelCatalog;
}

/** What a dialect hands over: its request in neutral form. */
export interface TurnRequestOptions {
  readonly turn: ChatTurn;
  readonly modelName: string;
  readonly conversationId: string | null | undefined;
  /** Extra files (the seed's `files`: /upload references). */
  readonly files: readonly string[];
  readonly partialOnCut: boolean;
  /** The messages only continue the conversation `conversationId` (previous_response_id). */
  readonly onlyNewTurn?: boolean;
  /** Store this turn under a new conversation id (a Responses API response id). */
  readonly saveAs?: string;
}

/** A turn checked and staged, ready for runTurn. */
export interface PreparedTurn {
  readonly run: TurnRun;
  readonly cp: ConversationPlan;
  readonly model: string;
  /** Where links to generated images point (through the gateway's host when proxied). */
  readonly baseUrl: string;
  /** Deletes the staged input files; never throws. */
  cleanup(): Promise<void>;
}

/** Checks and stages a turn; throws 4xx AppErrors before anything is queued. */
export async function prepareTurn(
  deps: TurnRouteDeps,
  req: Request,
  res: Response,
  options: TurnRequestOptions,
): Promise<PreparedTurn> {
  // A model the account lacks (another tier's, or withdrawn) is a 404 before anything is queued.
  const model = (deps.models ?? STATIC_MODEL_CATALOG).find(options.modelName);
  if (!model) {
    throw new ModelNotFoundError(options.modelName);
  }
  const caller = callerOf(res);
  const planned = await planConversation(
    options.conversationId,
    options.turn,
    deps.conversations,
    options.onlyNewTurn,
    caller,
  );
  const cp = fitPrompt(
    options.saveAs ? { ...planned, conversationId: options.saveAs } : planned,
    deps.maxPromptChars,
  );
  if (cp.prompt.trim() === '' && cp.images.length === 0 && options.files.length === 0) {
    throw new InvalidRequestError('The last user message is empty.', { param: 'messages' });
  }
  const inputs = await readInputs([...cp.images], [...options.files], {
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
  return {
    cp,
    model: model.name,
    // req.host: the Host the gateway passes on (the client's), so links point back at it; or
    // X-Forwarded-Host from a TRUST_PROXY peer.
    baseUrl: `${req.protocol}://${req.host}`,
    cleanup: () => staged.cleanup(),
    run: {
      turn: options.turn,
      model,
      cp,
      inputs: staged.inputs,
      requestId: requestIdOf(res) || randomUUID(),
      signal: abort.signal,
      startedAt: performance.now(),
      partialOnCut: options.partialOnCut,
    },
  };
}

/** A turn's outcome, with the markdown of its generated images (which joins the answer text). */
export interface AnsweredTurn extends TurnResult {
  readonly imageText: string;
}

/** Runs the turn through `sink`, then saves the conversation (see finishTurn). */
export async function answerTurn(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  sink: TurnSink,
): Promise<AnsweredTurn> {
  const outcome = await runTurn(deps, prepared.run, sink);
  const answer = { text: outcome.summary.text, toolCalls: outcome.summary.calls };
  return { ...outcome, imageText: finishTurn(deps, prepared, answer, outcome.result) };
}

/**
 * A streamed turn failed: before the 200 the error is the route's to answer with its status;
 * after it, the stream ends with an error event (nothing more when the client went away).
 */
export async function failStreamAfterCommit(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  sse: SseWriter,
  err: unknown,
): Promise<void> {
  if (!sse.started) {
    throw err;
  }
  if (!prepared.run.signal.aborted) {
    deps.logger.warn('stream failed after its first byte', {
      err,
      requestId: prepared.run.requestId,
    });
    await sse.fail(err);
  }
}

/**
 * Saves the conversation after the answer (not awaited: the store makes the next read wait for
 * it) and returns the markdown of the answer's generated images, which joins the answer text.
 */
function finishTurn(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  answer: TurnAnswer,
  result: GenerateResult | null,
): string {
  if (result === null) {
    return '';
  }
  const imageText = renderImages(result.images, prepared.baseUrl);
  const { conversation, key } = conversationAfterTurn(
    prepared.cp,
    { ...answer, text: answer.text + imageText },
    prepared.model,
    result.chat,
  );
  deps.conversations.save(conversation, key).catch((err: unknown) => {
    deps.logger.warn('could not save the conversation', {
      err,
      conversationId: prepared.cp.conversationId,
    });
  });
  return imageText;
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
