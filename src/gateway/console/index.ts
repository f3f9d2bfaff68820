/**
 * @module gateway/console
 * The operator's console at `/`: sign-in with an admin key, a live view of every account (state,
 * cooldown, load, 15-minute charts, last error, a thumbnail of its tab) and per-account actions
 * (refresh session, reset cooldown, drain, undrain, open VNC), every action CSRF-checked and logged
 * with the acting key's id.
 */
import express, { type Request, type Response } from 'express';
import type { Dispatcher } from 'undici';
import { AuthenticationError, ForbiddenError } from '../../errors.ts';
import { ANONYMOUS, presentedKey, refuseDeepJsonBody, type KeyRing } from '../../http/index.ts';
import type { Logger } from '../../logging.ts';
import type { NodesReport } from '../node-summary.ts';
import type { NodeProvider } from '../types.ts';
import {
  clearSessionCookie,
  consoleSessionOf,
  requireCsrf,
  requireSameOrigin,
  requireSession,
  sessionOf,
  setSessionCookie,
} from './access.ts';
import { actionHandler, screenshotHandler } from './actions.ts';
import { loadConsoleAssets } from './assets.ts';
import { ASSETS_PATH, CONSOLE_CSP, renderConsole, renderSignIn } from './page.ts';
import { SessionStore } from './sessions.ts';
import { consoleState } from './state.ts';
import { ConsoleStats, type AttemptObserver } from './stats.ts';

export { bundleConsoleAssets, loadConsoleAssets, PREBUILT_DIR } from './assets.ts';
export { ConsoleStats, type AttemptObserver, type ObservedAttempt } from './stats.ts';
export type { ConsoleState, ConsoleNode } from './state.ts';

/** What the console needs from the gateway. */
export interface ConsoleDeps {
  readonly keys: KeyRing;
  readonly nodes: NodeProvider;
  /** The node report /api/nodes answers (with this gateway's in-flight counts). */
  readonly report: () => NodesReport;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** GATEWAY_VNC_URL_TEMPLATE. */
  readonly vncUrlTemplate?: string | null;
  readonly now?: () => number;
}

/** The console's routes, and the observer the proxy feeds its charts with. */
export interface Console {
  readonly router: express.Router;
  readonly observe: AttemptObserver;
}

function sendPage(res: Response, status: number, html: string): void {
  res
    .status(status)
    .set({ 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-store' })
    .type('html')
    .send(html);
}

/** Creates the console. */
export function createConsole(deps: ConsoleDeps): Console {
  const now = deps.now ?? Date.now;
  const sessions = new SessionStore({ now });
  const stats = new ConsoleStats(now);
  const router = express.Router();
  const session = requireSession(sessions, deps.keys);
  const form = express.urlencoded({ extended: false, limit: 4096 });
  // Bundled ahead of the first page; a failure is logged here and retried at the next request.
  loadConsoleAssets().catch((err: unknown) =>
    deps.logger.warn('console assets could not be bundled', { error: String(err) }),
  );

  router.get('/', (req: Request, res: Response) => {
    let current = sessionOf(sessions, deps.keys, req);
    const key = presentedKey(req);
    if (!current && key !== null) {
      // An admin key in the request (e.g. HTTP Basic) signs in too; a user key is refused.
      const caller = deps.keys.identify(key);
      if (!caller) {
        throw new AuthenticationError('Incorrect API key provided.');
      }
      if (caller.role !== 'admin') {
        throw new ForbiddenError('The console needs an admin key (ADMIN_API_KEYS).');
      }
      current = sessions.create(key, caller);
      setSessionCookie(req, res, current);
    }
    if (!current && deps.keys.isOpen) {
      // ALLOW_NO_AUTH=1 without keys: everyone is an admin already (the start-up warning says so).
      current = sessions.create('', { keyId: ANONYMOUS, role: 'admin' });
      setSessionCookie(req, res, current);
    }
    if (!current) {
      sendPage(res, 401, renderSignIn(null));
      return;
    }
    sendPage(res, 200, renderConsole(current.csrfToken, current.caller.keyId));
  });

  router.post('/console/sign-in', requireSameOrigin, form, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { key?: unknown };
    const key = typeof body.key === 'string' ? body.key.trim() : '';
    const caller = key ? deps.keys.identify(key) : null;
    if (!caller) {
      deps.logger.info('console sign-in refused', { reason: 'unknown key' });
      sendPage(res, 401, renderSignIn('That key is not accepted.'));
      return;
    }
    if (caller.role !== 'admin') {
      deps.logger.info('console sign-in refused', { reason: 'user key', keyId: caller.keyId });
      sendPage(res, 403, renderSignIn('That is a user key: the console needs an admin key.'));
      return;
    }
    setSessionCookie(req, res, sessions.create(key, caller));
    deps.logger.info('console sign-in', { keyId: caller.keyId });
    res.redirect(303, '/');
  });

  router.post('/console/sign-out', session, form, requireCsrf, (req: Request, res: Response) => {
    const current = consoleSessionOf(res);
    sessions.delete(current.id);
    clearSessionCookie(req, res);
    deps.logger.info('console sign-out', { keyId: current.caller.keyId });
    res.redirect(303, '/');
  });

  router.get(`${ASSETS_PATH}/:file`, async (req: Request, res: Response, next) => {
    const file = req.params['file'];
    if (file !== 'console.js' && file !== 'console.css') {
      next();
      return;
    }
    const assets = await loadConsoleAssets();
    res
      .type(file.endsWith('.js') ? 'text/javascript' : 'text/css')
      .set('cache-control', 'no-cache')
      .send(file.endsWith('.js') ? assets.js : assets.css);
  });

  router.get('/console/state', session, (_req: Request, res: Response) => {
    res
      .set('cache-control', 'no-store')
      .json(consoleState(deps.report(), stats, deps.vncUrlTemplate, now()));
  });
  router.get('/console/nodes/screenshot', session, screenshotHandler(deps));
  router.post(
    '/console/nodes/action',
    session,
    express.json({ limit: 4096, verify: refuseDeepJsonBody }),
    requireCsrf,
    actionHandler(deps),
  );
  return { router, observe: stats.record };
}
