/**
 * GeminiClient: one Google account's conversation with the Gemini web app. It loads the session
 * from `/app`, streams StreamGenerate answers as deltas, uploads files and downloads images, and
 * classifies every failure as a GeminiError. Retries here are only those that cannot duplicate an
 * answer: one after an auth failure (fresh cookies) and one after a 400 (fresh `at` token), both
 * before anything was yielded. Everything else is for the account layer to decide.
 */
import { registerToken, type Logger } from '../logging.ts';
import { readAnswer } from './answer-reader.ts';
import { callBatchExecute } from './batchexecute.ts';
import type { GeminiClientOptions } from './client-options.ts';
import { startCall, type Call } from './call.ts';
import type { DriftSink } from './drift.ts';
import { GeminiError, isStaleTokenError, provenNotTaken } from './errors.ts';
import type { HttpResponse } from './http.ts';
import { downloadImage, type FetchedImage } from './images.ts';
import { keptPageModels, type PageModelLists } from './page-models.ts';
import { buildStreamGenerate, createReqIdCounter, streamGenerateFailure } from './request.ts';
import { fetchAppPage, preflight, resolveTokens, type SessionTokens } from './tokens.ts';
import { createNodeTransport } from './node-transport.ts';
import type { GoogleTransport } from './transport.ts';
import type { GenerateEvent, GenerateRequest, UploadedFile } from './types.ts';
import { createSendTracker, type SendTracker } from './send-tracker.ts';
import { uploadFile } from './upload.ts';
import { watchIdle } from './watchdog.ts';

const DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024;

/** The Gemini web client for one account. `close()` aborts in-flight calls; idempotent. */
export class GeminiClient {
  private readonly transport: GoogleTransport;
  private readonly node: GoogleTransport;
  private readonly log: Logger;
  private readonly nextReqId = createReqIdCounter();
  private readonly lifetime = new AbortController();
  private tokens: SessionTokens | null = null;
  private pageModelLists: PageModelLists | null = null;
  private readonly drift: DriftSink = (kind) => this.options.onDrift?.(kind);
  private lastGoodAt: string | null = null;
  private preflightDone = false;
  private loading: Promise<SessionTokens> | null = null;

  constructor(private readonly options: GeminiClientOptions) {
    this.log = options.logger.child({ module: 'gemini' });
    this.node = createNodeTransport({
      http: options.http,
      cookies: options.cookies,
      logger: this.log,
    });
    this.transport = options.transport ?? this.node;
  }

  /** Preflights www.google.com (first time only), then loads `/app` and scrapes its tokens. */
  async init(signal?: AbortSignal): Promise<void> {
    this.tokens = null;
    await this.session(signal);
  }

  /**
   * Streams one turn: text/thought deltas, a metadata event once cid/rid/rcid are known, then
   * `done`. Initialises lazily. Throws a GeminiError saying how far the send got (`stage`), or
   * the abort reason. Sends again only when Google proved it did not take the prompt (a 401
   * healed by fresh cookies, a 400 by a fresh `at`) and `req.gate` allows one more send.
   */
  async *generate(req: GenerateRequest): AsyncGenerator<GenerateEvent> {
    let authRetried = false;
    let rescraped = false;
    for (;;) {
      try {
        yield* this.generateOnce(req);
        return;
      } catch (err) {
        // A failure before any send (loading the page) may be retried; a send only if not taken.
        if (!(err instanceof GeminiError) || (err.stage !== null && !provenNotTaken(err.stage))) {
          throw err;
        }
        const mayResend = err.stage === null || (req.gate?.canResend() ?? true);
        if (err.kind === 'auth' && !authRetried && mayResend) {
          authRetried = true;
          await this.recoverAuth(err);
        } else if (isStaleTokenError(err) && !rescraped && mayResend) {
          // A stale `at` is the usual cause of a 400: load the page again, once.
          rescraped = true;
          this.tokens = null;
          this.log.info('StreamGenerate rejected the request; reloading the session', {
            httpStatus: err.httpStatus,
          });
        } else if (err.kind === 'model') {
          // The client is told which of its models Gemini refused (DESIGN.md: 400 naming it).
          throw err.withMessage(`${err.message} (model '${req.model.name}').`);
        } else {
          throw err;
        }
      }
    }
  }

  /** Pushes a file to content-push; the result goes in GenerateRequest.files. */
  async upload(
    data: Buffer,
    fileName: string,
    mimeType: string,
    signal?: AbortSignal,
  ): Promise<UploadedFile> {
    return this.withAuthRetry(signal, async (s) => {
      const tokens = await this.session(s);
      return uploadFile(this.transport, {
        data,
        fileName,
        mimeType,
        pushId: tokens.pushId,
        signal: s,
      });
    });
  }

  /** Calls one batchexecute RPC (e.g. otAQ7b, payload `[]`) and returns its decoded payload. */
  async rpc(rpcId: string, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.withAuthRetry(signal, async (s) => {
      const tokens = await this.session(s);
      return callBatchExecute(this.transport, {
        tokens,
        reqId: this.nextReqId(),
        language: this.options.language ?? tokens.language ?? 'en',
        rpcId,
        payload,
        signal: s,
        onDrift: this.drift,
      });
    });
  }

  /** Downloads an answer image with the account's cookies (gg-dl images get `=s2048`). */
  async fetchImage(url: string, signal?: AbortSignal): Promise<FetchedImage> {
    const maxBytes = this.options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
    return this.withAuthRetry(signal, (s) => downloadImage(this.transport, url, maxBytes, s));
  }

  /** The model lists of the last signed-in `/app` page; null before one, or when it had none. */
  pageModels(): PageModelLists | null {
    return this.pageModelLists;
  }

  /** Aborts calls in flight; later calls fail. Does not close the injected HTTP client. */
  close(): Promise<void> {
    if (!this.lifetime.signal.aborted) {
      this.lifetime.abort(new GeminiError('transient', 'The Gemini client was closed.'));
    }
    return Promise.resolve();
  }

  private async *generateOnce(req: GenerateRequest): AsyncGenerator<GenerateEvent> {
    const call = this.startCall(req.signal);
    const send = createSendTracker(req.gate);
    let finished = false;
    try {
      const res = await this.postStreamGenerate(req, call, send);
      if (res.status !== 200) {
        send.reached('http_status');
        throw await streamGenerateFailure(res);
      }
      send.reached('accepted');
      const result = yield* readAnswer(watchIdle(res.body, call.dog), send, this.drift);
      finished = true;
      send.settle(null);
      yield { type: 'done', result };
    } catch (err) {
      const how = { stalled: call.dog.fired, aborted: req.signal?.aborted === true };
      throw send.settle(call.failure(err), how);
    } finally {
      call.end(!finished);
      // A consumer that stopped reading ends the send too: its outcome stays unknown.
      send.settle(new Error('released'), { aborted: true });
    }
  }

  /** Sends StreamGenerate; the stall watchdog covers the wait for response headers. */
  private async postStreamGenerate(
    req: GenerateRequest,
    call: Call,
    send: SendTracker,
  ): Promise<HttpResponse> {
    if (!this.tokens) {
      // Loading the page reaches Google: it waits for the line, as the send does.
      await req.gate?.ready?.();
    }
    const tokens = await this.session(call.signal);
    const built = buildStreamGenerate({
      tokens,
      reqId: this.nextReqId(),
      language: this.options.language ?? tokens.language ?? 'en',
      prompt: req.prompt,
      model: req.model,
      files: req.files,
      chat: req.chat,
      ...(this.options.requestForm ? { form: this.options.requestForm } : {}),
    });
    this.log.debug('StreamGenerate', { model: req.model.name, followUp: Boolean(req.chat) });
    call.signal.throwIfAborted();
    await send.open();
    call.dog.arm();
    const res = await this.transport.send(built.url, {
      method: 'POST',
      headers: built.headers,
      body: built.body,
      signal: call.signal,
    });
    call.dog.disarm();
    return res;
  }

  /** The current tokens, loading the session when there are none. */
  private session(signal?: AbortSignal): Promise<SessionTokens> {
    if (this.tokens) {
      return Promise.resolve(this.tokens);
    }
    this.loading ??= this.loadSession(signal).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async loadSession(signal?: AbortSignal): Promise<SessionTokens> {
    const call = this.startCall(signal);
    try {
      call.dog.arm();
      // The page transport skips it: Chrome holds the NID/AEC cookies already.
      if (!this.preflightDone && this.transport.kind === 'node') {
        await preflight(this.transport, call.signal, this.log);
        this.preflightDone = true;
      }
      const page = await fetchAppPage(this.transport, call.signal);
      registerToken('at', page.at);
      if (!page.at && !page.language) {
        this.lastGoodAt = null;
      }
      const tokens = resolveTokens(page, this.lastGoodAt);
      this.lastGoodAt = tokens.at;
      this.tokens = tokens;
      this.pageModelLists = keptPageModels(this.pageModelLists, page.models, this.drift);
      this.log.info('Gemini session loaded', { bl: tokens.bl, reusedToken: !page.at });
      return tokens;
    } catch (err) {
      throw call.failure(err);
    } finally {
      call.end(false);
    }
  }

  private async recoverAuth(err: GeminiError): Promise<void> {
    this.log.warn('Google session rejected; refreshing cookies and retrying once', {
      reason: err.message,
    });
    this.tokens = null;
    this.lastGoodAt = null;
    this.transport.forgetReceivedCookies();
    this.node.forgetReceivedCookies();
    this.options.cookies.invalidate();
    try {
      await this.options.cookies.refresh();
    } catch (cause) {
      throw new GeminiError('auth', 'The Google session could not be refreshed.', { cause });
    }
  }

  private async withAuthRetry<T>(
    signal: AbortSignal | undefined,
    op: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const attempt = async (): Promise<T> => {
      const call = this.startCall(signal);
      try {
        // Uploads and image downloads are bounded by the stall timeout as a whole.
        call.dog.arm();
        return await op(call.signal);
      } catch (err) {
        throw call.failure(err);
      } finally {
        call.end(false);
      }
    };
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof GeminiError) || err.kind !== 'auth') {
        throw err;
      }
      await this.recoverAuth(err);
      return attempt();
    }
  }

  /** One upstream call: its abort signal (caller, close, stall) and its failure mapping. */
  private startCall(callerSignal: AbortSignal | undefined): Call {
    return startCall(callerSignal, this.lifetime.signal, this.options.stallTimeoutMs);
  }
}
