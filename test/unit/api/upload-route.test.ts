/**
 * POST /upload's own refusals: an empty file (it would go to Google as nothing) and a body of
 * parts busboy cannot name (not counted as files or fields, so without a cap a body never ends).
 */
import express from 'express';
import fs from 'node:fs';
import { once } from 'node:events';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadRouter } from '../../../src/api/routes/files.ts';
import { errorHandler } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';

const uploadsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-upload-route-'));
let server: http.Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.use(uploadRouter(uploadsDir, 1024 * 1024));
  app.use(errorHandler(createLogger({ silent: true })));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
});

afterAll(() => server.close());

const saved = () => fs.readdirSync(uploadsDir).filter((name) => !name.startsWith('.'));

/** A multipart body by hand: `parts` raw (headers and body each), then the boundary's end. */
async function postParts(parts: readonly string[]): Promise<{ status: number; body: string }> {
  const boundary = 'gk-test-boundary';
  const body = `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  });
  return { status: res.status, body: await res.text() };
}

const filePart = (name: string, data: string) =>
  `Content-Disposition: form-data; name="files"; filename="${name}"\r\n` +
  `Content-Type: text/plain\r\n\r\n${data}`;

describe('POST /upload', () => {
  it('saves a file and answers its id', async () => {
    const res = await postParts([filePart('notes.txt', 'hello')]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ files: [expect.stringMatching(/_notes\.txt$/)] });
  });

  it('refuses an empty file with a 400 and keeps nothing of the request', async () => {
    const before = saved().length;
    const res = await postParts([filePart('a.txt', 'fine'), filePart('empty.txt', '')]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'empty_file', param: 'files' } });
    expect(saved()).toHaveLength(before);
  });

  it('refuses a body of unnamed parts with a 400 instead of reading on', async () => {
    const junk = Array.from({ length: 200 }, () => 'X-Junk: 1\r\n\r\njunk');
    const res = await postParts([...junk, filePart('late.txt', 'x')]);
    expect(res.status).toBe(400);
    expect(res.body).toContain('limit_part_count');
  });
});
