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
import { abortError, PageFetchError, raceAbort, type PageResponse } from './page-fetch-error.ts';
import {
  PAGE_BINDING,
  PAGE_FETCH_SOURCE,
  PAGE_WORLD,
  pageAbortSource,
  type PageChunkMessage,
  type PageFetchHead,
  type PageFetchSpec,
} from './page-fetch-script.ts';
import { RedirectLog } from './page-redirects.ts';
import { loadPageResource } from './page-resource.ts';

/**
 * How long an opaque redirect waits for its CDP event. It comes before the fetch settles in
 * practice (the renderer reports the hop, then resolves the fetch); this only bounds a miss.
 */
const REDIRECT_EVENT_WAIT_MS = 1000;

let nextId = 0;

/** One tab's channel. Closed (every open body failed) when the tab or its CDP session goes. */
export class PageChannel {
  private readonly bodies = new Map<string, ChunkQueue>();
  private world: Promise<number> | null = null;
  private worldId: number | null = null;
  private closedBy: string | null = null;
  private readonly redirects: RedirectLog;

  private constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {
    this.redirects = new RedirectLog(cdp);
    cdp.on('Runtime.bindingCalled', (e) => this.onChunk(e.name, e.payload, e.executionContextId));
    cdp.on('Runtime.executionContextDestroyed', (e) => {
      if (e.executionContextId === this.worldId) {
        this.dropWorld('the worker tab navigated');
      }
    });
    cdp.on('Runtime.executionContextsCleared', () => this.dropWorld('the worker tab navigated'));
    page.once('close', () => this.close('the worker tab closed'));
  }

  /** Opens a channel on `page`: a CDP session, the binding, runtime and network events. */
  static async open(page: Page): Promise<PageChannel> {
    const cdp = await page.context().newCDPSession(page);
    const channel = new PageChannel(page, cdp);
    await cdp.send('Runtime.enable');
    await RedirectLog.enable(cdp);
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
    const redirect = this.redirects.watch(spec.url);
    try {
      const head = await raceAbort(this.start({ ...spec, id }), signal);
      if ('failed' in head) {
        throw new PageFetchError(
          `page_${head.failed}`,
          `The page's fetch failed (${head.failed}).`,
        );
      }
      void body.done.then(forget);
      if (!head.opaqueRedirect) {
        return { ...head, body };
      }
      // The page saw only that a redirect happened; CDP saw where to.
      const hop = await raceAbort(redirect.result(REDIRECT_EVENT_WAIT_MS), signal);
      const headers: [string, string][] = hop ? [['location', hop.location]] : [];
      return { status: hop?.status ?? 302, headers, url: head.url, body };
    } catch (err) {
      body.fail(err);
      forget();
      throw err;
    } finally {
      redirect.stop();
    }
  }

  /**
   * GETs `url` through Chrome's network stack for the tab's main frame (its cookies, redirects
   * followed): for resources of another origin, whose bodies CORS keeps from the page's fetch.
   */
  async load(url: string, signal?: AbortSignal): Promise<PageResponse> {
    if (!this.isOpen) {
      throw new PageFetchError('tab_closed', `No page to load from: ${this.closedBy ?? 'closed'}.`);
    }
    let frameId: string;
    try {
      frameId = (await this.cdp.send('Page.getFrameTree')).frameTree.frame.id;
    } catch (err) {
      throw new PageFetchError('cdp', 'The CDP call into the worker tab failed.', { cause: err });
    }
    return loadPageResource(this.cdp, frameId, url, signal);
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
