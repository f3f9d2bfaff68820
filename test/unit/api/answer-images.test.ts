import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { renderImages, storeGeneratedImages } from '../../../src/api/answer-images.ts';
import { ImageStore } from '../../../src/api/images.ts';
import type { GenerateResult } from '../../../src/gemini/index.ts';
import { createLogger } from '../../../src/logging.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function setup(fetchImage: (url: string) => Promise<{ data: Buffer; contentType: string }>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-answer-images-'));
  dirs.push(dir);
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (b: Buffer) => lines.push(b.toString('utf8')));
  const images = new ImageStore(dir);
  return { images, deps: { fetchImage, images, logger: createLogger({ stream }) }, lines };
}

const result = (urls: string[]): GenerateResult => ({
  text: 'here',
  thoughts: '',
  chat: null,
  modelName: null,
  images: [
    { kind: 'web', url: 'https://example.com/cat.png', alt: 'a cat', title: 'cat' },
    ...urls.map((url, i) => ({ kind: 'generated' as const, url, alt: `art ${i}`, imageId: null })),
  ],
});

describe('generated images in an answer', () => {
  it('a download that fails keeps the answer: the image is noted as missing and logged', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const t = setup(async (url) => {
      if (url.includes('broken')) {
        throw new Error('gg-dl answered 403');
      }
      return { data: png, contentType: 'image/png' };
    });
    const out = await storeGeneratedImages(
      result([
        'https://lh3.googleusercontent.com/gg-dl/ok',
        'https://lh3.googleusercontent.com/gg-dl/broken',
      ]),
      t.deps,
      new AbortController().signal,
      'key-1',
    );
    const [web, ok, broken] = out.images;
    expect(web).toMatchObject({ kind: 'web', url: 'https://example.com/cat.png' });
    expect(ok).toMatchObject({
      kind: 'generated',
      stored: expect.stringMatching(/\.png$/) as unknown,
    });
    expect(broken).toMatchObject({ kind: 'generated', stored: null });
    expect(await t.images.ownerOf((ok as { stored: string }).stored)).toBe('key-1');
    expect(t.lines.join('')).toMatch(/could not download a generated image/);

    const markdown = renderImages(out.images, 'https://worker.test');
    expect(markdown).toContain('![a cat](https://example.com/cat.png)');
    expect(markdown).toContain(
      `![art 0](https://worker.test/images/${(ok as { stored: string }).stored})`,
    );
    expect(markdown).toContain('*(Image 3 could not be downloaded.)*');
  });

  it('an answer without images renders nothing', () => {
    expect(renderImages([], 'https://worker.test')).toBe('');
  });
});
