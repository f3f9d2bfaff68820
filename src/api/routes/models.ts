/**
 * GET /v1/models and GET /v1/models/:id, in OpenAI's list shape.
 */
import express, { type Request, type Response } from 'express';
import { ModelNotFoundError } from '../../errors.ts';
import { findModel, MODELS, type ModelSpec } from '../../gemini/index.ts';

// A fixed date: the model list does not change at run time, and clients cache by it.
const CREATED = Math.floor(Date.UTC(2025, 0, 1) / 1000);

const toOpenAI = (m: ModelSpec) => ({
  id: m.name,
  object: 'model',
  created: CREATED,
  owned_by: 'google',
});

export function modelsRouter(): express.Router {
  const router = express.Router();
  router.get('/v1/models', (_req: Request, res: Response) => {
    res.json({ object: 'list', data: MODELS.map(toOpenAI) });
  });
  router.get('/v1/models/:id', (req: Request<{ id: string }>, res: Response) => {
    const m = findModel(req.params.id);
    if (!m) {
      throw new ModelNotFoundError(req.params.id);
    }
    res.json(toOpenAI(m));
  });
  return router;
}
