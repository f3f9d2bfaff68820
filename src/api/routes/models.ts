/**
 * GET /v1/models and GET /v1/models/:id, in OpenAI's list shape.
 */
import express, { type Request, type Response } from 'express';
import { ModelNotFoundError } from '../../errors.ts';
import { STATIC_MODEL_CATALOG, type ModelCatalog, type ModelSpec } from '../../gemini/index.ts';

// A fixed date: clients cache by it; which models are listed follows the account (discovery).
const CREATED = Math.floor(Date.UTC(2025, 0, 1) / 1000);

const toOpenAI = (m: ModelSpec) => ({
  id: m.name,
  object: 'model',
  created: CREATED,
  owned_by: 'google',
});

/** The models this worker's account can use now; 404 model_not_found for any other. */
export function modelsRouter(models: ModelCatalog = STATIC_MODEL_CATALOG): express.Router {
  const router = express.Router();
  router.get('/v1/models', (_req: Request, res: Response) => {
    res.json({ object: 'list', data: models.list().map(toOpenAI) });
  });
  router.get('/v1/models/:id', (req: Request<{ id: string }>, res: Response) => {
    const m = models.find(req.params.id);
    if (!m) {
      throw new ModelNotFoundError(req.params.id);
    }
    res.json(toOpenAI(m));
  });
  return router;
}
