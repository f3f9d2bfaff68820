/**
 * POST /upload (multipart `files`, seed-compatible answer) and GET /images/... .
 */
import express, { type Request, type Response } from 'express';
import multer from 'multer';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidRequestError, NotFoundError } from '../../errors.ts';
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
    limits: { fileSize: maxBytes, files: 10, fields: 10 },
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
  router.post('/upload', upload.array('files', 10), async (req: Request, res: Response) => {
    const files = (req.files ?? []) as Express.Multer.File[];
    if (files.length === 0) {
      throw new InvalidRequestError('Send one or more files in the multipart field "files".', {
        param: 'files',
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
