import { describe, expect, it } from 'vitest';
import { downloadImage } from '../../../src/gemini/images.ts';
import { GeminiError } from '../../../src/gemini/errors.ts';
import { readAll, type HttpResponse } from '../../../src/gemini/http.ts';
import type { GoogleTransport } from '../../../src/gemini/transport.ts';

function response(url: URL, status: number, body: Buffer, headers: Record<string, string> = {}) {
  const chunks = async function* () {
    for (let i = 0; i < body.length; i += 64) {
      yield body.subarray(i, i + 64);
    }
  };
  const res: HttpResponse = {
    url,
    status,
    headers,
    setCookies: [],
    body: chunks(),
    header: (name) => headers[name.toLowerCase()],
    text: async () => (await readAll(res.body, Infinity)).toString('utf8'),
    bytes: (max = Infinity) => readAll(res.body, max),
    discard: () => Promise.resolve(),
  };
  return res;
}

/** A transport that follows redirects itself (as the page transport's Chrome does). */
function followingTransport(status: number, body: Buffer) {
  const asked: string[] = [];
  const transport: GoogleTransport = {
    kind: 'page',
    send: () => Promise.reject(new Error('hop by hop is not for this transport')),
    getFollowingRedirects: (url) => {
      asked.push(url.href);
      return Promise.resolve(response(url, status, body, { 'content-type': 'image/png' }));
    },
    forgetReceivedCookies: () => undefined,
  };
  return { transport, asked };
}

const GG_DL = 'https://lh3.googleusercontent.com/gg-dl/abc123';

describe('downloadImage with a transport that follows redirects itself', () => {
  it('asks once, for the sized URL, and returns the bytes and type', async () => {
    const { transport, asked } = followingTransport(200, Buffer.from('\x89PNG...', 'latin1'));
    const image = await downloadImage(transport, GG_DL, 1024);
    expect(asked).toEqual([`${GG_DL}=s2048`]);
    expect(image.contentType).toBe('image/png');
    expect(image.data.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('keeps the byte limit and classifies a refusal', async () => {
    const big = followingTransport(200, Buffer.alloc(4096));
    const tooBig = downloadImage(big.transport, GG_DL, 1000);
    await expect(tooBig).rejects.toMatchObject({ kind: 'bad_request' });
    await expect(tooBig).rejects.toThrow(/larger than 1000 bytes/);
    const refused = followingTransport(403, Buffer.alloc(0));
    const err = await downloadImage(refused.transport, GG_DL, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GeminiError);
    expect((err as GeminiError).httpStatus).toBe(403);
  });
});
