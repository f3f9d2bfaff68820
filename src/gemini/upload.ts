/**
 * File upload to content-push (protocol doc §6): multipart field `file`, the Push-ID header, and
 * the v2 extras (X-Tenant-Id, Gemini Origin/Referer). The reply body is the file id.
 */
import { randomBytes } from 'node:crypto';
import { errorForStatus, GeminiError } from './errors.ts';
import type { GoogleTransport } from './transport.ts';
import type { UploadedFile } from './types.ts';
import { GEMINI_PAGE_HEADERS, UPLOAD_URL } from './wire.ts';

/** An encoded multipart body and its Content-Type. */
export interface Multipart {
  body: Buffer;
  contentType: string;
}

/** A multipart/form-data body holding one file. */
export function buildMultipart(
  field: string,
  fileName: string,
  mimeType: string,
  data: Buffer,
  boundary = `----gemini-kasm-${randomBytes(12).toString('hex')}`,
): Multipart {
  // Quotes and line breaks would end the header early; browsers percent-encode quotes likewise.
  const safeName = fileName.replace(/[\r\n]/g, ' ').replace(/"/g, '%22');
  const safeType = /^[\w.+-]+\/[\w.+-]+$/.test(mimeType) ? mimeType : 'application/octet-stream';
  const head =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${field}"; filename="${safeName}"\r\n` +
    `Content-Type: ${safeType}\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(head, 'utf8'), data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

/** One file to upload. */
export interface UploadInput {
  readonly data: Buffer;
  readonly fileName: string;
  readonly mimeType: string;
  readonly pushId: string;
  readonly signal?: AbortSignal | undefined;
}

/** Pushes one file; resolves to the id Gemini refers to it by. */
export async function uploadFile(
  transport: GoogleTransport,
  input: UploadInput,
): Promise<UploadedFile> {
  const form = buildMultipart('file', input.fileName, input.mimeType, input.data);
  const res = await transport.send(UPLOAD_URL, {
    method: 'POST',
    headers: {
      ...GEMINI_PAGE_HEADERS,
      'content-type': form.contentType,
      'push-id': input.pushId,
      'x-tenant-id': 'bard-storage',
    },
    body: form.body,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  if (res.status !== 200) {
    await res.discard();
    throw errorForStatus(res.status, 'Uploading a file');
  }
  const fileId = (await res.text()).trim();
  if (!fileId) {
    throw new GeminiError('transient', 'content-push answered without a file id.');
  }
  return { fileId, fileName: input.fileName };
}
