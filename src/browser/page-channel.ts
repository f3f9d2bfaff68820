/**
 * The page transport's line into the worker's tab: one CDP session per tab, an isolated world in
 * its main frame, and a Runtime binding that carries body chunks back.
 *
 * Why bindings and not the Fetch domain: Fetch.enable pauses every matching request of the tab
 * (the app's own included) and hands the body over only by polling IO.read, one round trip per
 * read; a binding pushes each chunk the moment the page's reader gets it, one CDP message and
 * no reply, and the request stays the page's ordinary fetch. Why not page.exposeFunction: it
 * lives in the main world (visible to, and patchable by, Google's scripts) and every call waits
 * for a reply.
 */
import type { CDPSession, Page } from 'playwright-core';
import { createChunkQueue, type ChunkQueue } from './chunk-queue.ts';
import {
  PAGE_BINDING,
  PAGE_FETCH_SOURCE,
  PAGE_WORLD,
  pageAbortSource,
  type PageChunkMessage,
  type PageFetchHead,
  type PageFetchSpec,
} from './page-fetch-script.ts';

/** A failure of the page's fetch or of the CDP line to it; `code` is what logs may show. */
export class PageFetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PageFetchError';
  }
}

/** A response head from the page, with its body still arriving. */
export interface PageResponse {
  readonly status: number;
  readonly headers: [string, string][];
  readonly url: string;
  readonly body: ChunkQueue;
}

let nextId = 0;

/** One tab's channel. Closed (every open body failed) when the tab or its CDP session goes. */
export class PageChannel {
  private readonly bodies = new Map<string, ChunkQueue>();
  private world: Promise<number> | null = null;
  private worldId: number | null = null;
  private closedBy: string | null = null;

  private constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {
    cdp.on('Runtime.bindingCalled', (e) => this.onChunk(e.name, e.payload, e.executionContextId));
    cdp.on('Runtime.executionContextDestroyed', (e) => {
      if (e.executionContextId === this.worldId) {
        this.dropWorld('the worker tab navigated');
      }
    });
    cdp.on('Runtime.executionContextsCleared', () => this.dropWorld('the worker tab navigated'));
    page.once('close', () => this.close('the worker tab closed'));
  }

  /** Opens a channel on `page`: a CDP session, the binding, runtime events. */
  static async open(page: Page): Promise<PageChannel> {
    const cdp = await page.context().newCDPSession(page);
    const channel = new PageChannel(page, cdp);
    await cdp.send('Runtime.enable');
    await cdp.send('Runtime.addBinding', { name: PAGE_BINDING, executionContextName: PAGE_WORLD });
    return channel;
  }

  /** Whether the channel still serves requests. */
  get isOpen(): boolean {
    return this.closedBy === null && !this.page.isClosed();
  }

  /**
   * Starts `spec` in the page; resolves at the response head. Rejects with a PageFetchError when
   * the page's fetch failed before a response, or with the abort reason when `signal` aborts.
   */
  async fetch(spec: Omit<PageFetchSpec, 'id'>, signal?: AbortSignal): Promise<PageResponse> {
    signal?.throwIfAborted();
    nextId += 1;
    const id = `f${nextId}`;
    const abortInPage = () => void this.evaluate(pageAbortSource(id)).catch(() => undefined);
    const body = createChunkQueue(abortInPage);
    this.bodies.set(id, body);
    const onAbort = () => {
      body.fail(signal && abortError(signal));
      abortInPage();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const forget = () => {
      signal?.removeEventListener('abort', onAbort);
      this.bodies.delete(id);
    };
    try {
      const head = await raceAbort(this.start({ ...spec, id }), signal);
      if ('failed' in head) {
        throw new PageFetchError(
          `page_${head.failed}`,
          `The page's fetch failed (${head.failed}).`,
        );
      }
      void body.done.then(forget);
      return { ...head, body };
    } catch (err) {
      body.fail(err);
      forget();
      throw err;
    }
  }

  /** Fails every open body; later fetches reject. */
  close(reason: string): void {
    this.closedBy ??= reason;
    this.dropWorld(reason);
    this.cdp.detach().catch(() => undefined);
  }

  /** Runs the page script; a world lost between creation and use is made again, once. */
  private async start(spec: PageFetchSpec): Promise<PageFetchHead> {
    const source = `(${PAGE_FETCH_SOURCE})(${JSON.stringify(spec)})`;
    try {
      return (await this.evaluate(source, true)) as PageFetchHead;
    } catch (err) {
      if (!(err instanceof PageFetchError) || err.code !== 'world_gone') {
        throw err;
      }
      return (await this.evaluate(source, true)) as PageFetchHead;
    }
  }

  private async evaluate(expression: string, awaitPromise = false): Promise<unknown> {
    if (!this.isOpen) {
      throw new PageFetchError('tab_closed', `No page to send from: ${this.closedBy ?? 'closed'}.`);
    }
    const contextId = await this.ensureWorld();
    let reply;
    try {
      reply = await this.cdp.send('Runtime.evaluate', {
        expression,
        contextId,
        awaitPromise,
        returnByValue: true,
      });
    } catch (err) {
      const gone = /context/i.test(err instanceof Error ? err.message : '');
      if (gone) {
        this.dropWorld('the isolated world is gone');
      }
      const code = gone ? 'world_gone' : 'cdp';
      throw new PageFetchError(code, 'The CDP call into the worker tab failed.', { cause: err });
    }
    if (reply.exceptionDetails) {
      throw new PageFetchError('page_exception', 'The page transport script threw.');
    }
    return reply.result.value;
  }

  private ensureWorld(): Promise<number> {
    this.world ??= this.createWorld().catch((err: unknown) => {
      this.world = null;
      throw new PageFetchError('cdp', 'Could not open the isolated world.', { cause: err });
    });
    return this.world;
  }

  private async createWorld(): Promise<number> {
    const { frameTree } = await this.cdp.send('Page.getFrameTree');
    const { executionContextId } = await this.cdp.send('Page.createIsolatedWorld', {
      frameId: frameTree.frame.id,
      worldName: PAGE_WORLD,
    });
    this.worldId = executionContextId;
    return executionContextId;
  }

  /** The world died (navigation, close): its fetches are gone, so are their bodies. */
  private dropWorld(reason: string): void {
    this.world = null;
    this.worldId = null;
    for (const body of this.bodies.values()) {
      body.fail(new PageFetchError('tab_navigated', `The page's fetch ended: ${reason}.`));
    }
    this.bodies.clear();
  }

  private onChunk(name: string, payload: string, contextId: number): void {
    if (name !== PAGE_BINDING || contextId !== this.worldId) {
      return;
    }
    const msg = JSON.parse(payload) as PageChunkMessage;
    const body = this.bodies.get(msg.id);
    if (!body) {
      return;
    }
    if (msg.data !== undefined) {
      body.push(Buffer.from(msg.data, 'base64'));
    } else if (msg.end) {
      body.end();
    } else {
      body.fail(new PageFetchError(`page_${msg.failed ?? 'Error'}`, 'The body read failed.'));
    }
  }
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) {
    return work;
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The abort reason as an Error, as undici rejects with it. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('The operation was aborted.', 'AbortError');
}
