/** GeminiClient.upload and fetchImage: multipart uploads to content-push, images by redirect. */
import { beforeEach, describe, expect, it } from 'vitest';
import { cookies, fake, makeClient, useClientHarness } from './support/client-harness.ts';
import { cookiesOf } from './support/fake-google.ts';
import { accountCookies, BAD_PSID, GOOD_PSID, PUSH_ID } from './support/fake-gemini.ts';

useClientHarness();

describe('GeminiClient.upload', () => {
  it('posts multipart field `file` with Push-ID and returns the file id', async () => {
    fake.on('POST', 'content-push.googleapis.com/upload', (_req, res) => {
      res.end('/contrib_service/ttl_1d/abc123\n');
    });
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const file = await makeClient().upload(data, 'pic "one".png', 'image/png');
    expect(file).toEqual({ fileId: '/contrib_service/ttl_1d/abc123', fileName: 'pic "one".png' });
    const [req] = fake.seen('POST', 'content-push.googleapis.com/upload');
    expect(req?.headers['push-id']).toBe(PUSH_ID);
    expect(req?.headers['x-tenant-id']).toBe('bard-storage');
    expect(req?.headers.origin).toBe('https://gemini.google.com');
    const boundary = /boundary=(.+)$/.exec(req?.headers['content-type'] ?? '')?.[1] ?? '';
    const raw = req?.body ?? Buffer.alloc(0);
    const text = raw.toString('latin1');
    expect(text).toContain(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pic %22one%22.png"\r\nContent-Type: image/png\r\n\r\n`,
    );
    expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    expect(raw.includes(data)).toBe(true);
    // .google.com cookies never go to googleapis.com.
    expect(req?.headers.cookie).toBeUndefined();
  });

  it('classifies a failed upload', async () => {
    fake.on('POST', 'content-push.googleapis.com/upload', (_req, res) => {
      res.writeHead(413).end();
    });
    await expect(
      makeClient().upload(Buffer.from('x'), 'a.txt', 'text/plain'),
    ).rejects.toMatchObject({
      kind: 'bad_request',
      httpStatus: 413,
    });
  });
});

describe('GeminiClient.fetchImage', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

  beforeEach(() => {
    fake.on('GET', 'lh3.googleusercontent.com/gg-dl/IMG_HASH=s2048', (_req, res) => {
      res
        .writeHead(302, {
          location: 'https://work.fife.usercontent.google.com/rd-gg-dl/IMG_HASH=s2048',
        })
        .end();
    });
    fake.on('GET', 'work.fife.usercontent.google.com/rd-gg-dl/IMG_HASH=s2048', (req, res) => {
      if (cookiesOf(req)['__Secure-1PSID'] !== GOOD_PSID) {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    });
  });

  it('adds =s2048, follows the redirect and attaches cookies per host', async () => {
    const img = await makeClient().fetchImage('https://lh3.googleusercontent.com/gg-dl/IMG_HASH');
    expect(img).toEqual({ data: PNG, contentType: 'image/png' });
    const [first] = fake.seen('GET', 'lh3.googleusercontent.com/gg-dl/IMG_HASH=s2048');
    expect(first?.headers.cookie).toBeUndefined();
    const [second] = fake.seen('GET', 'work.fife.usercontent.google.com/rd-gg-dl/IMG_HASH=s2048');
    expect(cookiesOf(second!)['__Secure-1PSID']).toBe(GOOD_PSID);
  });

  it('keeps an existing size suffix', async () => {
    fake.on('GET', 'lh3.googleusercontent.com/gg-dl/OTHER=s1024-rj', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    });
    const img = await makeClient().fetchImage(
      'https://lh3.googleusercontent.com/gg-dl/OTHER=s1024-rj',
    );
    expect(img.data).toEqual(PNG);
  });

  it('gives up after 5 redirects', async () => {
    fake.on('GET', 'lh3.googleusercontent.com/loop', (_req, res) => {
      res.writeHead(302, { location: '/loop' }).end();
    });
    await expect(
      makeClient().fetchImage('https://lh3.googleusercontent.com/loop'),
    ).rejects.toMatchObject({
      kind: 'transient',
    });
    expect(fake.seen('GET', 'lh3.googleusercontent.com/loop')).toHaveLength(6);
  });

  it('refreshes cookies once when the image host refuses them', async () => {
    cookies.cookies = accountCookies(BAD_PSID);
    cookies.afterRefresh = accountCookies(GOOD_PSID);
    const img = await makeClient().fetchImage('https://lh3.googleusercontent.com/gg-dl/IMG_HASH');
    expect(img.data).toEqual(PNG);
    expect(cookies.calls.refresh).toBe(1);
  });
});
