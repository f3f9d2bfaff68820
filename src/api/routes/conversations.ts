/**
 * GET /conversations, GET|DELETE /conversations/:id (seed-compatible shapes).
 */
import express, { type Request, type Response } from 'express';
import { NotFoundError } from '../../errors.ts';
import type { ConversationStore } from '../conversations.ts';

export function conversationsRouter(store: ConversationStore): express.Router {
  const router = express.Router();
  router.get('/conversations', async (_req: Request, res: Response) => {
    const conversations = await store.list();
    res.json({ total: conversations.length, conversations });
  });
  router.get('/conversations/:id', async (req: Request<{ id: string }>, res: Response) => {
    const c = await store.get(req.params.id);
    if (!c) {
      throw new NotFoundError(`No conversation ${req.params.id}.`, { param: 'conversation_id' });
    }
    res.json(c);
  });
  router.delete('/conversations/:id', async (req: Request<{ id: string }>, res: Response) => {
    if (!(await store.delete(req.params.id))) {
      throw new NotFoundError(`No conversation ${req.params.id}.`, { param: 'conversation_id' });
    }
    res.json({ success: true, conversation_id: req.params.id, deleted: true });
  });
  return router;
}
