/**
 * GET /health (liveness and details), GET /ready (200 only when this worker can serve now),
 * GET /metrics (prom-client), and the admin routes.
 */
import express, { type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError } from '../../errors.ts';

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
}

export function statusRouter(status: StatusSource, metrics: Registry): express.Router {
  const router = express.Router();
  router.get('/health', async (_req: Request, res: Response) => {
    const details = await status.health();
    const readiness = await status.readiness();
    res.json({ status: 'ok', ready: readiness.ready, reason: readiness.reason, ...details });
  });
  router.get('/ready', async (_req: Request, res: Response) => {
    const r = await status.readiness();
    if (!r.ready) {
      throw new ServiceUnavailableError(r.reason ?? 'Not ready.', 5, { code: 'not_ready' });
    }
    res.json({ ready: true });
  });
  router.get('/metrics', async (_req: Request, res: Response) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  return router;
}

/** Admin routes; the app mounts them behind the API key. */
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
  return router;
}
