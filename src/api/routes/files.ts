/**
 * POST /upload (multipart `files`, seed-compatible answer) and GET /images/... .
 */
import express, { type Request, type Response } from 'express';
import multer from 'multer';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidRequestError, NotFoundError } from '../../errors.ts';
import type { ImageStore } from '../images.ts';
import { checkUploadType } from '../inputs.ts';

const stamp = (d: Date) => d.toISOString().replace(/\D/g, '').slice(0, 14);
const safeName = (name: string) =>
  path
    .basename(name)
    .replace(/[^\w.-]+/g, '_')
    .slice(-100) || 'file';

/** Saves uploads as uploads/<YYYYmmddHHMMSS>_<hex8>_<name>, as the seed did. */
export function uploadRouter(uploadsDir: string, maxBytes: number): express.Router {
  fs.mkdirSync(uploadsDir, { recursive: true });
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
  router.post('/upload', upload.array('files', 10), (req: Request, res: Response) => {
    const files = (req.files ?? []) as Express.Multer.File[];
    if (files.length === 0) {
      throw new InvalidRequestError('Send one or more files in the multipart field "files".', {
        param: 'files',
      });
    }
    res.json({ success: true, files: files.map((f) => `uploads/${f.filename}`) });
  });
  return router;
}

export function imagesRouter(images: ImageStore): express.Router {
  const router = express.Router();
  router.get('/images/{*rest}', async (req: Request, res: Response) => {
    const rest = (req.params as { rest?: string[] }).rest ?? [];
    const file = await images.resolve(rest.join('/'));
    if (!file) {
      throw new NotFoundError('No such image.');
    }
    res.sendFile(file, { dotfiles: 'deny', maxAge: '7d' });
  });
  return router;
}
