/**
 * GET /health (liveness for all; details only for an admin key), GET /ready (200 only when this
 * worker can serve now; the reason only for an admin), GET /metrics (admin), and the admin routes.
 */
import express, { type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError } from '../../errors.ts';
import { authenticate, peekCaller, requireAdmin, type KeyRing } from '../../http/index.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, in a sentence an operator can act on. */
  reason: string | null;
}

export interface StatusSource {
  /** Details for /health: login state, cooldown, queue, conversations, images… */
  health(): Promise<Record<string, unknown>>;
  readiness(): Promise<Readiness>;
}

export interface AdminActions {
  refreshSession(): Promise<Record<string, unknown>>;
  screenshot(): Promise<Buffer>;
  resetCooldown(): Promise<Record<string, unknown>>;
  /** Drain (true) or undrain (false); answers with the new state once the registry has it. */
  setDraining(draining: boolean): Promise<Record<string, unknown>>;
}

/**
 * Open to all, but an anonymous caller learns only whether the worker is up and ready: no
 * account, no e-mail, no login state, no versions.
 */
export function statusRouter(
  status: StatusSource,
  metrics: Registry,
  keys: KeyRing,
): express.Router {
  const router = express.Router();
  const isAdmin = (req: Request) => peekCaller(keys, req)?.role === 'admin';
  router.get('/health', async (req: Request, res: Response) => {
    const readiness = await status.readiness();
    res.set('cache-control', 'no-store');
    if (!isAdmin(req)) {
      res.json({ status: 'ok', ready: readiness.ready });
      return;
    }
    const details = await status.health();
    res.json({ status: 'ok', ready: readiness.ready, reason: readiness.reason, ...details });
  });
  router.get('/ready', async (req: Request, res: Response) => {
    const r = await status.readiness();
    if (!r.ready) {
      const reason = isAdmin(req) ? (r.reason ?? 'Not ready.') : 'Not ready.';
      throw new ServiceUnavailableError(reason, 5, { code: 'not_ready' });
    }
    res.json({ ready: true });
  });
  router.get('/metrics', authenticate(keys), requireAdmin, async (_req: Request, res: Response) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  return router;
}

/** Admin routes; the app mounts them behind authenticate() and requireAdmin. */
export function adminRouter(admin: AdminActions): express.Router {
  const router = express.Router();
  router.post('/admin/session/refresh', async (_req: Request, res: Response) => {
    res.json(await admin.refreshSession());
  });
  router.get('/admin/browser/screenshot', async (_req: Request, res: Response) => {
    res
      .type('image/png')
      .set('cache-control', 'no-store')
      .send(await admin.screenshot());
  });
  router.post('/admin/cooldown/reset', async (_req: Request, res: Response) => {
    res.json(await admin.resetCooldown());
  });
  router.post('/admin/drain', async (_req: Request, res: Response) => {
    res.json(await admin.setDraining(true));
  });
  router.post('/admin/undrain', async (_req: Request, res: Response) => {
    res.json(await admin.setDraining(false));
  });
  return router;
}
