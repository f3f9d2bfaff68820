/**
 * @module gateway/proxy
 * Every POST the workers answer (chat completions, completions, responses, Anthropic messages,
 * Gemini generateContent): choose a node (affinity first), send, and either relay the answer
 * or, while nothing has gone to the client, move to another node (failover.ts decides). The
 * dialect changes only how the request is read and how the gateway's own errors look.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { errorShaperOf } from '../api/index.ts';
import { AppError, toAppError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { pick } from './balancer.ts';
import { requestIdOf, upstreamHeaders, type ChatRequest } from './chat-request.ts';
import { answerFailedAttempt, settleFailedAttempt, type FailedAttempt } from './failed-attempt.ts';
import {
  classifyNetworkError,
  decideFailover,
  parseUpstreamSent,
  UPSTREAM_SENT_HEADER,
  type AttemptOutcome,
  type FailoverDecision,
} from './failover.ts';
import { forwardAnswer } from './forward.ts';
import type { InFlight } from './in-flight.ts';
import type { GatewayMetrics } from './metrics.ts';
import { assertRoutable } from './node-source.ts';
import type { Binding, BindingStore, NodeProvider, NodeRecord, RegistrySnapshot } from './types.ts';
import { Cancel, sendAttempt, type AttemptResult } from './upstream.ts';
import type { Suspects } from './suspects.ts';
import type { AttemptObserver } from './console/index.ts';

/** What the chat proxy needs. */
export interface ChatProxyDeps {
  readonly nodes: NodeProvider;
  readonly bindings: BindingStore;
  readonly inFlight: InFlight;
  /** Nodes that refused a connection moments ago; avoided while others can serve. */
  readonly suspects?: Suspects;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** A pooled undici Agent. */
  readonly dispatcher: Dispatcher;
  readonly nodeFreshMs: number;
  /** Nodes tried per request at most (config.gateway.maxAttempts). */
  readonly maxAttempts: number;
  /** The worker path the request goes to (the same path the client called). */
  readonly path?: string;
  /**
   * Route only to nodes whose account has the body's `model` (404 model_not_found when none
   * has it). For dialects whose model names the workers map (Claude names), leave it off.
   */
  readonly routeByModel?: boolean;
  readonly now?: () => number;
  /** Sees every attempt (the console's per-node charts). */
  readonly observe?: AttemptObserver;
}

/** The path proxied, on the gateway and on the workers. */
export const CHAT_PATH = '/v1/chat/completions';

type AttemptsEnd =
  | {
      readonly kind: 'forward';
      readonly node: NodeRecord;
      readonly result: AttemptResult & { kind: 'response' };
      readonly release: () => void;
    }
  | { readonly kind: 'failed'; readonly failed: FailedAttempt }
  | { readonly kind: 'aborted' };

/**
 * Relays one request read as `chat`; throws our own errors (the caller renders them in the
 * client's dialect) and answers everything else itself.
 */
export type Relay = (req: IncomingMessage, res: ServerResponse, chat: ChatRequest) => Promise<void>;

/** One client request in progress. */
interface Exchange {
  readonly chat: ChatRequest;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly cancel: Cancel;
  readonly affinity: Binding | null;
  /** The node holding the uploaded files the request names: no other node can answer it. */
  readonly pinned: string | null;
}

/** The relay of one route (POST /v1/chat/completions unless deps.path says otherwise). */
export function createChatProxy(deps: ChatProxyDeps): Relay {
  let rotation = 0;
  const nextRotation = (): number => (rotation = (rotation + 1) % Number.MAX_SAFE_INTEGER);
  return async function chatCompletions(req, res, chat) {
    const startedAt = performance.now();
    const cancel = new Cancel();
    // The client's going away reaches the worker: the pending attempt or relay is aborted.
    res.once('close', () => {
      if (!res.writableFinished) {
        cancel.cancel();
      }
    });
    const requestId = requestIdOf(req.headers);
    res.setHeader('x-request-id', requestId);
    // Uploaded files exist only on the node that took them: it alone can answer.
    const files = await lookupAffinity(deps, chat.fileKeys);
    const affinity = files ?? (await lookupAffinity(deps, chat.keys));
    const pinned = files?.nodeUrl ?? null;
    const end = await runAttempts(
      deps,
      { chat, req, res, requestId, cancel, affinity, pinned },
      nextRotation,
    );
    if (end.kind === 'forward') {
      try {
        await forwardAnswer(deps, res, { chat, node: end.node, result: end.result, startedAt });
      } finally {
        end.release();
      }
    } else if (end.kind === 'failed') {
      answerFailedAttempt(res, end.failed, errorShaperOf(chat.dialect));
    }
  };
}

async function lookupAffinity(
  deps: ChatProxyDeps,
  keys: readonly string[],
): Promise<Binding | null> {
  if (keys.length === 0) {
    return null;
  }
  try {
    return await deps.bindings.lookup(keys);
  } catch (err) {
    // Affinity is an optimisation: without it the chosen worker replays the history.
    deps.logger.warn('binding lookup failed', {
      error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}

async function runAttempts(
  deps: ChatProxyDeps,
  ex: Exchange,
  nextRotation: () => number,
): Promise<AttemptsEnd> {
  const exclude = new Set<string>();
  let last: FailedAttempt | null = null;
  for (let attempt = 1; ; attempt++) {
    const snapshot = deps.nodes.snapshot();
    const nodes = snapshot.nodes;
    if (ex.pinned !== null) {
      nodes.filter((n) => n.nodeUrl !== ex.pinned).forEach((n) => exclude.add(n.nodeUrl));
    }
    const node = chooseNode(deps, ex, snapshot, exclude, nextRotation());
    if (node instanceof AppError) {
      // Out of nodes after a failed attempt: that attempt's answer is the one to give.
      return {
        kind: 'failed',
        failed: last ?? { kind: 'error', error: node, upstreamSent: false },
      };
    }
    exclude.add(node.nodeUrl);
    const release = deps.inFlight.acquire(node.nodeUrl);
    const sentAt = performance.now();
    const result = await sendAttempt(deps.dispatcher, {
      nodeUrl: node.nodeUrl,
      path: ex.chat.path ?? deps.path ?? CHAT_PATH,
      headers: upstreamHeaders(ex.req.headers, ex.requestId, ex.req.socket.remoteAddress),
      body: ex.chat.raw,
      cancel: ex.cancel,
    });
    const decision = decide(deps, ex, result, attempt);
    const seen = { nodeUrl: node.nodeUrl, attempt, ms: performance.now() - sentAt, result };
    if (decision.action === 'forward' && result.kind === 'response') {
      deps.observe?.({ ...seen, failure: null, failedOver: false });
      return { kind: 'forward', node, result, release };
    }
    last = await settleFailedAttempt(result, node.nodeUrl, deps.logger);
    release();
    deps.observe?.({ ...seen, failure: last, failedOver: decision.action === 'retry' });
    if (decision.action !== 'retry') {
      const aborted = decision.action === 'fail' && decision.reason === 'client_aborted';
      return aborted ? { kind: 'aborted' } : { kind: 'failed', failed: last };
    }
    noteFailover(deps, ex, node, attempt, decision.reason);
    if (decision.reason === 'unreachable') {
      deps.suspects?.mark(node.nodeUrl, (deps.now ?? Date.now)());
    }
    if (decision.reason === 'status_429' && node.account !== null) {
      // A 429 is the account's quota: its other nodes would answer the same.
      nodes.filter((n) => n.account === node.account).forEach((n) => exclude.add(n.nodeUrl));
    }
  }
}

/** The node for this attempt, or the error pick() raised when none can serve. */
function chooseNode(
  deps: ChatProxyDeps,
  ex: Exchange,
  snapshot: RegistrySnapshot,
  exclude: ReadonlySet<string>,
  rotation: number,
): NodeRecord | AppError {
  const nodes = snapshot.nodes;
  const opts = {
    nodeFreshMs: deps.nodeFreshMs,
    inFlight: deps.inFlight.counts(),
    affinity: ex.affinity,
    rotation,
    model: deps.routeByModel ? ex.chat.model : null,
  };
  const now = (deps.now ?? Date.now)();
  try {
    assertRoutable(snapshot, now);
    const avoid = deps.suspects?.with(exclude, now) ?? exclude;
    try {
      return pick(nodes, now, opts, avoid);
    } catch {
      // Only suspects are left: try them rather than give up.
      return pick(nodes, now, opts, exclude);
    }
  } catch (err) {
    return toAppError(err);
  }
}

function decide(
  deps: ChatProxyDeps,
  ex: Exchange,
  result: AttemptResult,
  attempt: number,
): FailoverDecision {
  const outcome: AttemptOutcome =
    result.kind === 'response'
      ? {
          kind: 'response',
          status: result.status,
          upstreamSent: parseUpstreamSent(result.headers[UPSTREAM_SENT_HEADER]),
        }
      : { kind: 'network', code: result.code };
  deps.metrics.attempts.inc({
    outcome: result.kind === 'response' ? String(result.status) : classifyNetworkError(result.code),
  });
  return decideFailover(outcome, {
    attempt,
    maxAttempts: deps.maxAttempts,
    clientCommitted: ex.res.headersSent,
    clientAborted: ex.cancel.cancelled,
  });
}

function noteFailover(
  deps: ChatProxyDeps,
  ex: Exchange,
  node: NodeRecord,
  attempt: number,
  reason: string,
): void {
  deps.metrics.failovers.inc({ reason });
  deps.logger.info('failover', { requestId: ex.requestId, node: node.nodeUrl, attempt, reason });
}
