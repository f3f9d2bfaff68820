/**
 * GET /conversations (admin: every conversation), GET|DELETE /conversations/:id (the owner or an
 * admin; anyone else gets the same 404 as for a missing one). Seed-compatible shapes.
 */
import express, { type Request, type Response } from 'express';
import { NotFoundError } from '../../errors.ts';
import { callerOf, mayAccess, requireAdmin } from '../../http/index.ts';
import type { Conversation, ConversationStore } from '../conversations.ts';

async function owned(store: ConversationStore, id: string, res: Response): Promise<Conversation> {
  const c = await store.get(id);
  if (!c || !mayAccess(callerOf(res), c.owner)) {
    throw new NotFoundError(`No conversation ${id}.`, { param: 'conversation_id' });
  }
  return c;
}

/** Mount behind authenticate(). */
export function conversationsRouter(store: ConversationStore): express.Router {
  const router = express.Router();
  router.get('/conversations', requireAdmin, async (_req: Request, res: Response) => {
    const conversations = await store.list();
    res.json({ total: conversations.length, conversations });
  });
  router.get('/conversations/:id', async (req: Request<{ id: string }>, res: Response) => {
    res.json(await owned(store, req.params.id, res));
  });
  router.delete('/conversations/:id', async (req: Request<{ id: string }>, res: Response) => {
    await owned(store, req.params.id, res);
    if (!(await store.delete(req.params.id))) {
      throw new NotFoundError(`No conversation ${req.params.id}.`, { param: 'conversation_id' });
    }
    res.json({ success: true, conversation_id: req.params.id, deleted: true });
  });
  return router;
}
