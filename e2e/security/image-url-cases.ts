/**
 * Image URLs, from e2e/security.test.ts: every address form that points inside is refused before
 * anything is fetched; a trusted setup fetches, follows a redirect and stops at the size cap; a
 * message with more images than the cap is refused whole.
 */
import { describe, expect, it } from 'vitest';
import { chat, userSays, type CountingServer } from '../support/attack.ts';
import type { TestWorker } from '../support/worker.ts';

const MIB = 1024 * 1024;

/** The suite's workers (one refusing private addresses, one trusted) and its image server. */
export interface ImageUrlTarget {
  readonly worker: TestWorker;
  readonly trusted: TestWorker;
  readonly images: CountingServer;
  /** A user key both workers accept. */
  readonly key: string;
}

/** Defines the cases; `t()` is the suite's target once it has started. */
export function imageUrlCases(t: () => ImageUrlTarget): void {
  describe('image URLs that point inside', () => {
    it.each([
      ['loopback', (p: number) => `http://127.0.0.1:${p}/dot.png`],
      ['v6 loopback', (p: number) => `http://[::1]:${p}/dot.png`],
      ['private', () => 'http://10.0.0.1/dot.png'],
      ['metadata', () => 'http://169.254.169.254/latest/meta-data/'],
      ['v4-mapped', (p: number) => `http://[::ffff:127.0.0.1]:${p}/dot.png`],
      ['v4-compatible', (p: number) => `http://[::127.0.0.1]:${p}/dot.png`],
      // HOST_RESOLVER_RULES maps *.googleusercontent.com to the emulator on 127.0.0.1.
      ['a public name that resolves to loopback', () => 'https://lh3.googleusercontent.com/a.png'],
      ['a non-http scheme', () => 'file:///etc/passwd'],
    ])('%s: 400 "image URL not allowed", nothing fetched', async (_name, url) => {
      const before = t().images.hits();
      const r = await chat(
        t().worker.url,
        t().key,
        userSays([
          { type: 'text', text: 'what is this' },
          { type: 'image_url', image_url: { url: url(t().images.port) } },
        ]),
      );
      expect(r.status).toBe(400);
      expect(r.json.error?.message).toBe('image URL not allowed');
      expect(t().images.hits()).toBe(before);
    });

    it('a trusted setup (IMAGE_URL_ALLOW_PRIVATE=1) fetches, follows a redirect, and cuts 50 MiB at the cap', async () => {
      const image = (url: string) =>
        userSays([
          { type: 'text', text: 'what is this' },
          { type: 'image_url', image_url: { url: `http://127.0.0.1:${t().images.port}${url}` } },
        ]);
      expect((await chat(t().trusted.url, t().key, image('/dot.png'))).status).toBe(200);
      expect((await chat(t().trusted.url, t().key, image('/redirect'))).status).toBe(200);
      const base = process.memoryUsage();
      const huge = await chat(t().trusted.url, t().key, image('/huge.png'));
      expect(huge.status).toBe(413);
      expect(huge.json.error?.message).toBe('image too large');
      const after = process.memoryUsage();
      expect(after.heapUsed + after.arrayBuffers - base.heapUsed - base.arrayBuffers).toBeLessThan(
        16 * MIB,
      );
    });

    it('100 images in one message: 400, nothing fetched', async () => {
      const before = t().images.hits();
      const parts = Array.from({ length: 100 }, (_, i) => ({
        type: 'image_url',
        image_url: { url: `http://127.0.0.1:${t().images.port}/dot.png?${i}` },
      }));
      const r = await chat(t().trusted.url, t().key, userSays(parts));
      expect(r.status).toBe(400);
      expect(r.json.error?.code).toBe('too_many_images');
      expect(t().images.hits()).toBe(before);
    });
  });
}
