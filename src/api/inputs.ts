/**
 * Image and file inputs: a base64 data URL, an http(s) URL, or a file saved by POST /upload.
 * Everything is checked before anything goes upstream, so bad input is a 400 that costs nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidRequestError, NotFoundError, UnsupportedMediaTypeError } from '../errors.ts';
import { mayAccess, type Caller } from '../http/index.ts';
import { OwnerIndex } from './owner-index.ts';
import {
  fetchImageUrl,
  imageTooLarge,
  imageUrlNotAllowed,
  type ResolveHost,
} from './safe-fetch.ts';

export interface InputFile {
  data: Buffer;
  fileName: string;
  mimeType: string;
}

export interface InputOptions {
  readonly uploadsDir: string;
  /** The largest image (data URL, image URL or upload) accepted. */
  readonly maxBytes: number;
  /** The most images one request may carry (default 10). */
  readonly maxImages?: number;
  readonly fetchTimeoutMs?: number;
  /** IMAGE_URL_ALLOW_PRIVATE: image URLs may reach loopback and private addresses. */
  readonly allowPrivateUrls?: boolean;
  readonly resolveHost?: ResolveHost;
  /** Who asks: uploads are readable only by their owner (or an admin). Unset: no check. */
  readonly caller?: Caller | null;
}

const IMAGE_MAGIC: [string, (b: Buffer) => boolean][] = [
  [
    'image/png',
    (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  ],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/gif', (b) => b.subarray(0, 4).toString('latin1') === 'GIF8'],
  [
    'image/webp',
    (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
];

/** The image type the bytes really are, or null. */
export function sniffImage(data: Buffer): string | null {
  return IMAGE_MAGIC.find(([, test]) => test(data))?.[0] ?? null;
}

const EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

function badImage(reason: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid image: ${reason}`, {
    param: 'messages',
    code: 'invalid_image',
  });
}

function imageFile(data: Buffer, index: number, maxBytes: number): InputFile {
  if (data.length === 0) {
    throw badImage('it is empty.');
  }
  if (data.length > maxBytes) {
    throw imageTooLarge();
  }
  const mimeType = sniffImage(data);
  if (!mimeType) {
    throw badImage('the data is not a PNG, JPEG, GIF or WebP image.');
  }
  return { data, mimeType, fileName: `image_${index + 1}.${EXT[mimeType] ?? 'png'}` };
}

function fromDataUrl(url: string, index: number, maxBytes: number): InputFile {
  const match = /^data:([\w.+-]+\/[\w.+-]+)?(;[\w=-]+)*;base64,(.*)$/s.exec(url);
  const payload = match?.[3]?.replace(/\s/g, '');
  if (!payload || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) {
    throw badImage('a data URL must be base64 (data:image/png;base64,...).');
  }
  return imageFile(Buffer.from(payload, 'base64'), index, maxBytes);
}

async function fromHttpUrl(url: string, index: number, opts: InputOptions): Promise<InputFile> {
  const data = await fetchImageUrl(url, {
    maxBytes: opts.maxBytes,
    timeoutMs: opts.fetchTimeoutMs ?? 15_000,
    allowPrivate: opts.allowPrivateUrls ?? false,
    ...(opts.resolveHost ? { resolve: opts.resolveHost } : {}),
  });
  return imageFile(data, index, opts.maxBytes);
}

/**
 * A file saved by POST /upload; the path must stay inside the uploads directory (else 400), and
 * the caller must own it: someone else's file is a 404, exactly like a missing one.
 */
export async function fromUpload(ref: string, opts: InputOptions): Promise<InputFile> {
  const uploads = path.resolve(opts.uploadsDir);
  const unknown = () => new NotFoundError(`Unknown file: ${ref}`, { param: 'files' });
  // /upload answers `uploads/<name>`; a bare name or an absolute path inside uploads works too.
  const file = path.resolve(uploads, ref.replace(/^uploads\//, ''));
  if (path.dirname(file) !== uploads) {
    throw new InvalidRequestError(`Invalid file reference: ${ref}`, {
      param: 'files',
      code: 'invalid_file',
    });
  }
  if (
    opts.caller !== undefined &&
    !mayAccess(opts.caller, await new OwnerIndex(uploads).get(path.basename(file)))
  ) {
    throw unknown();
  }
  const data = await fs.readFile(file).catch(() => {
    throw unknown();
  });
  const fileName = path.basename(file).replace(/^\d{14}_[0-9a-f]{8}_/, '');
  return { data, fileName, mimeType: sniffImage(data) ?? mimeFromName(fileName) };
}

const NAME_MIME: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
};

export function mimeFromName(name: string): string {
  return NAME_MIME[path.extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * MAX_IMAGES_PER_REQUEST: a 400 when one send would carry more than `maxImages` images and files.
 * `images` counts every occurrence, not distinct references: each is uploaded on its own.
 */
export function checkInputCount(images: number, files: number, maxImages = 10): void {
  if (images + files > maxImages) {
    throw new InvalidRequestError(
      `Too many images and files: at most ${maxImages} per request (MAX_IMAGES_PER_REQUEST); ` +
        'a repeated image counts each time it appears.',
      { param: 'messages', code: 'too_many_images' },
    );
  }
}

/**
 * Reads every image reference and uploaded file; throws 4xx before any upstream call. The count
 * is the caller's to check (checkInputCount), as it knows how often each image is sent.
 */
export async function readInputs(
  imageRefs: readonly string[],
  fileRefs: readonly string[],
  opts: InputOptions,
): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const [i, ref] of imageRefs.entries()) {
    if (ref.startsWith('data:')) {
      files.push(fromDataUrl(ref, i, opts.maxBytes));
    } else if (/^https?:\/\//i.test(ref)) {
      files.push(await fromHttpUrl(ref, i, opts));
    } else if (/^[a-z][\w+.-]*:/i.test(ref)) {
      // file:, ftp:, gopher: ... never fetched, never read.
      throw imageUrlNotAllowed();
    } else {
      // An upload named as an image is held to what any other image is: not empty, within
      // MAX_IMAGE_BYTES, and a PNG, JPEG, GIF or WebP by its bytes, whatever /upload was told.
      files.push(imageFile((await fromUpload(ref, opts)).data, i, opts.maxBytes));
    }
  }
  for (const ref of fileRefs) {
    files.push(await fromUpload(ref, opts));
  }
  return files;
}

const UPLOAD_TYPES =
  /^(image\/(png|jpeg|gif|webp|heic|heif)|application\/(pdf|json)|text\/(plain|markdown|csv|html))$/;

/** Throws 415 for a type Gemini web cannot take. */
export function checkUploadType(mimeType: string): void {
  if (!UPLOAD_TYPES.test(mimeType)) {
    throw new UnsupportedMediaTypeError(`Files of type ${mimeType} are not supported.`, {
      param: 'files',
    });
  }
}
