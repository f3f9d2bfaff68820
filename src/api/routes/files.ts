/**
 * POST /upload (multipart `files`, seed-compatible answer) and GET /images/... .
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError, InvalidRequestError, NotFoundError } from '../../errors.ts';
import { ANONYMOUS, callerOf, mayAccess } from '../../http/index.ts';
import type { ImageStore } from '../images.ts';
import { checkUploadType } from '../inputs.ts';
import { OwnerIndex } from '../owner-index.ts';

const stamp = (d: Date) => d.toISOString().replace(/\D/g, '').slice(0, 14);
const safeName = (name: string) =>
  path
    .basename(name)
    .replace(/[^\w.-]+/g, '_')
    .slice(-100) || 'file';

/**
 * A broken multipart body (busboy's "Unexpected end of form", "Malformed part header", no
 * boundary...) is the client's fault: 400. Limits keep their codes; disk failures stay 500.
 */
function asUploadError(err: unknown): unknown {
  const e = err as { code?: unknown; syscall?: unknown; status?: unknown };
  if (
    err instanceof AppError ||
    typeof e.syscall === 'string' ||
    (typeof e.code === 'string' && e.code.startsWith('LIMIT_'))
  ) {
    return err;
  }
  const reason = err instanceof Error ? err.message : 'unreadable';
  return new InvalidRequestError(`Invalid multipart body: ${reason}`, { param: 'files' });
}

/**
 * Saves uploads as uploads/<YYYYmmddHHMMSS>_<hex8>_<name>, as the seed did, each owned by the
 * key that sent it. Mount it behind authenticate(): multer reads the body.
 */
export function uploadRouter(uploadsDir: string, maxBytes: number): express.Router {
  fs.mkdirSync(uploadsDir, { recursive: true });
  const owners = new OwnerIndex(uploadsDir);
  const upload = multer({
    storage: multer.diskStorage({
      destination: uploadsDir,
      filename: (_req, file, cb) =>
        cb(
          null,
          `${stamp(new Date())}_${randomBytes(4).toString('hex')}_${safeName(file.originalname)}`,
        ),
    }),
    // `parts` bounds what else a body may hold (busboy skips parts it cannot name, uncounted
    // by `files` and `fields`), so one request cannot stream without end.
    limits: { fileSize: maxBytes, files: 10, fields: 10, parts: 20, headerPairs: 100 },
    fileFilter: (_req, file, cb) => {
      try {
        checkUploadType(file.mimetype);
        cb(null, true);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  const router = express.Router();
  const parse = upload.array('files', 10);
  router.post('/upload', (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      next(err === undefined ? undefined : asUploadError(err));
    });
  });
  router.post('/upload', async (req: Request, res: Response) => {
    const files = (req.files ?? []) as Express.Multer.File[];
    if (files.length === 0) {
      throw new InvalidRequestError('Send one or more files in the multipart field "files".', {
        param: 'files',
      });
    }
    if (files.some((f) => f.size === 0)) {
      await Promise.all(files.map((f) => fs.promises.rm(f.path, { force: true })));
      throw new InvalidRequestError('An uploaded file is empty.', {
        param: 'files',
        code: 'empty_file',
      });
    }
    const owner = callerOf(res)?.keyId ?? ANONYMOUS;
    await Promise.all(files.map((f) => owners.set(f.filename, owner)));
    res.json({ success: true, files: files.map((f) => `uploads/${f.filename}`) });
  });
  return router;
}

/** GET /images/...: only the key that made an image (or an admin) gets it; others get 404. */
export function imagesRouter(images: ImageStore): express.Router {
  const router = express.Router();
  router.get('/images/{*rest}', async (req: Request, res: Response) => {
    const relative = ((req.params as { rest?: string[] }).rest ?? []).join('/');
    const file = await images.resolve(relative);
    if (!file || !mayAccess(callerOf(res), await images.ownerOf(relative))) {
      throw new NotFoundError('No such image.');
    }
    // private: a shared cache must not hand one key's image to another.
    res.set('cache-control', 'private, max-age=604800');
    res.sendFile(file, { dotfiles: 'deny', cacheControl: false });
  });
  return router;
}
