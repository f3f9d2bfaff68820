/**
 * What every dialect's route does around the turn runner: everything is checked before anything
 * is queued (model, conversation, prompt size, inputs), the input files are staged for the job,
 * and after the answer the conversation is saved with the chat the last answer returned.
 */
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { ImageStore } from './images.ts';
import {
  InvalidRequestError,
  UPSTREAM_SENT_HEADER,
  ModelNotFoundError,
  PayloadTooLargeError,
} from '../errors.ts';
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
import { checkToolChoice, type ChatTurn } from './core/index.ts';
import type { InputOptions } from './inputs.ts';
import type { ImageToKeep } from './kept-images.ts';
import type { SseWriter } from './sse.ts';
import { prepareTurnInputs } from './turn-inputs.ts';
import { runTurn, type TurnResult, type TurnRun, type TurnSink } from './turn-runner.ts';

/** IMAGES_PER_REQUEST's default, when the deps name none. */
const DEFAULT_MAX_IMAGES = 10;

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
  /** Longest prompt sent inline; a longer one goes as message.txt (default: maxPromptChars). */
  readonly promptInlineMaxChars?: number;
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
  /** Deletes the staged input files (once the images to keep are kept); never throws. */
  cleanup(): Promise<void>;
  /** The client's images read for this turn, by the name they are kept under. */
  readonly keptNames: ReadonlyMap<string, string>;
  /** Their staged files, kept with the conversation once it is saved. */
  readonly toKeep: readonly ImageToKeep[];
  /** Work that must end before cleanup (keeping the images the saved conversation names). */
  readonly pending: Promise<unknown>[];
}

/** Checks and stages a turn; throws 4xx AppErrors before anything is queued. */
export async function prepareTurn(
  deps: TurnRouteDeps,
  req: Request,
  res: Response,
  options: TurnRequestOptions,
): Promise<PreparedTurn> {
  // Each dialect checks its tool_choice in its own words; this is for one that did not.
  checkToolChoice(options.turn.toolChoice, options.turn.tools);
  // A model the account lacks (another tier's, or withdrawn) is a 404 before anything is queued.
  const model = (deps.models ?? STATIC_MODEL_CATALOG).find(options.modelName);
  if (!model) {
    throw new ModelNotFoundError(options.modelName);
  }
  const caller = callerOf(res);
  const maxImages = deps.inputOptions?.maxImages ?? DEFAULT_MAX_IMAGES;
  const planned = await planConversation(options.conversationId, options.turn, deps.conversations, {
    onlyNewTurn: options.onlyNewTurn ?? false,
    caller,
    maxImages: Math.max(0, maxImages - options.files.length),
    inlineMaxChars: deps.promptInlineMaxChars ?? deps.maxPromptChars,
  });
  const cp = fitPrompt(
    options.saveAs ? { ...planned, conversationId: options.saveAs } : planned,
    deps.maxPromptChars,
  );
  if (cp.prompt.trim() === '' && cp.images.length === 0 && options.files.length === 0) {
    throw new InvalidRequestError('The last user message is empty.', { param: 'messages' });
  }
  const staged = await prepareTurnInputs(cp, options.files, {
    read: {
      uploadsDir: deps.uploadsDir,
      maxBytes: deps.maxUploadBytes,
      ...deps.inputOptions,
      caller,
    },
    inputsDir: deps.inputsDir,
    inlineMaxChars: deps.promptInlineMaxChars ?? deps.maxPromptChars,
    kept: deps.conversations.keptImages,
  });
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) {
      abort.abort();
    }
  });
  const pending: Promise<unknown>[] = [];
  return {
    cp,
    model: model.name,
    // req.host: the Host the gateway passes on (the client's), so links point back at it; or
    // X-Forwarded-Host from a TRUST_PROXY peer.
    baseUrl: `${req.protocol}://${req.host}`,
    keptNames: staged.keptNames,
    toKeep: staged.toKeep,
    pending,
    cleanup: async () => {
      await Promise.allSettled(pending);
      await staged.cleanup();
    },
    run: {
      turn: options.turn,
      model,
      cp,
      inputs: staged.inputs,
      outgoing: {
        prompt: staged.prompt,
        replayPrompt: staged.replayPrompt,
        replayInputs: staged.replayInputs,
      },
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

/** The two ways a route answers a turn: streamed as it comes, or collected into one body. */
export interface TurnReply {
  stream(): Promise<void>;
  collect(): Promise<void>;
}

/** Streams or collects the answer, then deletes the turn's staged files whatever happened. */
export async function replyToTurn(
  prepared: PreparedTurn,
  streamed: boolean,
  reply: TurnReply,
): Promise<void> {
  try {
    await (streamed ? reply.stream() : reply.collect());
  } finally {
    await prepared.cleanup();
  }
}

/**
 * Runs the turn for a reply that is not streamed, and says on `res` that the prompt went
 * upstream; the route then writes the answer in its dialect.
 */
export async function collectTurn(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  res: Response,
): Promise<AnsweredTurn> {
  const ignore = () => undefined;
  const answered = await answerTurn(deps, prepared, { answer: ignore, thought: ignore });
  res.setHeader(UPSTREAM_SENT_HEADER, 'true');
  return answered;
}

/**
 * A streamed turn failed: before the 200 the error is the route's to answer with its status;
 * after it, the stream ends with an error event (nothing more when the client went away).
 */
export async function failStreamAfterCommit(
  deps: TurnRouteDeps,
  prepared: PreparedTurn,
  sse: Pick<SseWriter, 'started' | 'fail'>,
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
 * Saves the conversation after the answer (built once the answer went out, and not awaited: the
 * store makes the next read wait for it) and returns the markdown of the answer's generated
 * images, which joins the answer text.
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
  const { conversations } = deps;
  const saving = conversations.saveSoon(() => {
    const { conversation, key } = conversationAfterTurn(
      prepared.cp,
      { ...answer, text: answer.text + imageText },
      prepared.model,
      result.chat,
      prepared.keptNames,
    );
    const inUse = conversation.messages.flatMap((m) => m.images ?? []);
    const first = conversations.keptImages.keep(prepared.toKeep, inUse);
    // The plan read the stored file (a Responses API turn saves under a new id): no second look.
    const replaces = prepared.cp.storedId === prepared.cp.conversationId;
    return { conversation, historyKey: key, first, replaces };
  });
  // Keeping reads the staged files, which cleanup deletes only after the save.
  prepared.pending.push(saving);
  saving.catch((err: unknown) => {
    deps.logger.warn('could not save the conversation', {
      err,
      conversationId: prepared.cp.conversationId,
    });
  });
  return imageText;
}

/**
 * 413 for a prompt over the hard ceiling, before anything is queued (below it, a prompt too long
 * to send inline goes as a file). A replay prompt (the whole history, used only if Gemini rejects
 * the follow-up) over the ceiling is dropped rather than refused.
 */
function fitPrompt(cp: ConversationPlan, maxChars: number): ConversationPlan {
  if (cp.prompt.length > maxChars) {
    throw new PayloadTooLargeError(
      `The prompt is ${cp.prompt.length} characters; this server accepts at most ${maxChars}.`,
      { param: 'messages', code: 'prompt_too_long' },
    );
  }
  return (cp.replayPrompt?.length ?? 0) > maxChars
    ? { ...cp, replayPrompt: null, replayParts: null, replayImages: [] }
    : cp;
}
