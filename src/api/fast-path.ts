/**
 * @module api/fast-path
 * The worker's chat POSTs served on node:http in front of express, without express's router
 * walk: one map lookup finds the route, then the very functions express would run for it, in its
 * order (the app-level middleware whose mount path matches, the route's own handlers, the app's
 * error handler), on a request and response given what express gives them (its prototypes,
 * res.locals, req.params, req.route, req.baseUrl and req.originalUrl). A request it does not take
 * exactly as express would route it (another method, another spelling of the path, a URL that
 * express's parseurl reads otherwise, a route parameter that does not decode) goes to express,
 * which answers it as it always did.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type express from 'express';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { plainUrl, routeParam } from '../http/index.ts';

/** One route the fast path serves. */
export interface HotRoute {
  /** What express runs before the route, in its order: the app.use layers the path matches. */
  readonly front: readonly RequestHandler[];
  /** The route as express holds it (app.route(path)): it becomes req.route, as in express. */
  readonly route: { readonly path: string };
  /** The route's handlers, as registered on it. */
  readonly handlers: readonly RequestHandler[];
}

/** The routes and the app the fast path stands in front of. */
export interface FastPathSpec {
  readonly app: express.Express;
  /** Routes by their exact path (lower case, no trailing slash, no parameter). */
  readonly exact: ReadonlyMap<string, HotRoute>;
  /** One route of the form `<prefix>:<param>` (Google's /v1beta/models/:action), if any. */
  readonly withParam?: { readonly prefix: string; readonly param: string; readonly hot: HotRoute };
  /** What express runs when a route falls through without answering (the app's 404). */
  readonly fallthrough: RequestHandler;
  /** The app's terminal error handler. */
  readonly onError: ErrorRequestHandler;
}

/** A request the fast path takes: its route and the route's parameters. */
export interface TakenRoute {
  readonly hot: HotRoute;
  readonly params: Record<string, string>;
}

/** The hot route of a request, when the fast path may take it; else null (express's). */
export function takeHotRoute(
  spec: FastPathSpec,
  method: string | undefined,
  url: string | undefined,
): TakenRoute | null {
  const plain = method === 'POST' && url !== undefined ? plainUrl(url) : null;
  if (plain === null) {
    return null;
  }
  const exact = spec.exact.get(plain.path);
  if (exact !== undefined) {
    return { hot: exact, params: Object.create(null) as Record<string, string> };
  }
  const withParam = spec.withParam;
  if (withParam === undefined || !plain.path.startsWith(withParam.prefix)) {
    return null;
  }
  const value = routeParam(plain.path.slice(withParam.prefix.length));
  if (value === null) {
    return null;
  }
  const params = Object.create(null) as Record<string, string>;
  params[withParam.param] = value;
  return { hot: withParam.hot, params };
}

/** node:http's listener: the hot routes served here, everything else by the express app. */
export function withFastPath(spec: FastPathSpec): RequestListener {
  return function serveHotOrExpress(req, res) {
    const taken = takeHotRoute(spec, req.method, req.url);
    if (taken === null) {
      spec.app(req, res);
      return;
    }
    serveHot(spec, asExpress(spec.app, req, res), taken);
  };
}

/** What express's app.handle and router.handle do to a request before its first middleware. */
function asExpress(
  app: express.Express,
  req: IncomingMessage,
  res: ServerResponse,
): { req: Request; res: Response } {
  const request = req as Request;
  const response = res as Response;
  // x-powered-by is disabled on the worker's app, so app.handle would set no header here.
  request.res = response;
  response.req = request;
  Object.setPrototypeOf(req, app.request);
  Object.setPrototypeOf(res, app.response);
  // A fresh ServerResponse has no locals: app.handle makes them the same way.
  response.locals = Object.create(null) as Record<string, unknown>;
  request.baseUrl = '';
  request.originalUrl = request.url;
  return { req: request, res: response };
}

/**
 * Runs the route's front, then its handlers, then (if it falls through) the app's 404, each as
 * express's Layer runs it: a throw or a rejected promise is next(err); an error skips to onError.
 */
function serveHot(
  spec: FastPathSpec,
  { req, res }: { req: Request; res: Response },
  { hot, params }: TakenRoute,
): void {
  const chain = [...hot.front, enterRoute, ...hot.handlers, spec.fallthrough];
  let at = 0;
  let failed = false;
  function enterRoute(_req: Request, _res: Response, next: NextFunction): void {
    req.params = params;
    (req as { route?: unknown }).route = hot.route;
    next();
  }
  const next: NextFunction = (err?: unknown) => {
    if (err !== undefined && err !== null) {
      fail(err);
      return;
    }
    const handler = chain[at++];
    if (handler !== undefined) {
      invoke(() => handler(req, res, next));
    }
  };
  const fail = (err: unknown): void => {
    if (failed) {
      // express's finalhandler's turn: the error handler itself failed, or called next(err).
      res.destroy();
      return;
    }
    failed = true;
    invoke(() => spec.onError(err, req, res, fail));
  };
  function invoke(call: () => unknown): void {
    try {
      const ret = call() as { then?: unknown } | undefined;
      if (typeof ret?.then === 'function') {
        // As express's Layer: a rejection with no reason still counts as an error.
        (ret as PromiseLike<unknown>).then(undefined, (error: unknown) =>
          fail(error || new Error('Rejected promise')),
        );
      }
    } catch (error) {
      fail(error);
    }
  }
  req.next = next;
  req.params = Object.create(null) as Record<string, string>;
  next();
}
