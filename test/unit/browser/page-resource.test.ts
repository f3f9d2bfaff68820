import type { CDPSession } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PageFetchError } from '../../../src/browser/page-fetch-error.ts';
import { loadPageResource, type ResourceCdp } from '../../../src/browser/page-resource.ts';
import { readAll } from '../../../src/gemini/http.ts';

type Resource = {
  success: boolean;
  httpStatusCode?: number;
  netErrorName?: string;
  stream?: string;
  headers?: Record<string, string>;
};

/** A CDP that answers loadNetworkResource with `resource` and IO.read with `chunks`. */
function fakeCdp(resource: Resource, chunks: string[] = [], loadDelayMs = 0) {
  const calls: string[] = [];
  let closes = 0;
  const send = async (method: string, params: Record<string, unknown>) => {
    calls.push(method);
    if (method === 'Network.loadNetworkResource') {
      await new Promise((r) => setTimeout(r, loadDelayMs));
      return { resource };
    }
    if (method === 'IO.read') {
      expect(params['handle']).toBe(resource.stream);
      const data = chunks.shift();
      return { data: data ?? '', base64Encoded: true, eof: data === undefined };
    }
    if (method === 'IO.close') {
      closes += 1;
      return {};
    }
    throw new Error(`unexpected ${method}`);
  };
  return {
    cdp: { send } as unknown as ResourceCdp & Pick<CDPSession, 'send'>,
    calls,
    closes: () => closes,
  };
}

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const IMAGE = 'https://lh3.googleusercontent.com/gg-dl/abc=s2048';

describe('loadPageResource', () => {
  it('streams the body Chrome loaded, with its status and headers, and frees the stream', async () => {
    const { cdp, closes } = fakeCdp(
      { success: true, httpStatusCode: 200, stream: '7', headers: { 'Content-Type': 'image/png' } },
      [b64('\x89PNG'), b64('rest')],
    );
    const res = await loadPageResource(cdp, 'frame', IMAGE);
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([['Content-Type', 'image/png']]);
    expect((await readAll(res.body, 100)).toString('latin1')).toBe('\x89PNGrest');
    await new Promise((r) => setTimeout(r, 0));
    expect(closes()).toBe(1);
  });

  it('a refusal keeps its status; a network failure throws a PageFetchError', async () => {
    const refused = await loadPageResource(
      fakeCdp({
        success: false,
        httpStatusCode: 403,
        netErrorName: 'net::ERR_HTTP_RESPONSE_CODE_FAILURE',
      }).cdp,
      'frame',
      IMAGE,
    );
    expect(refused.status).toBe(403);
    expect((await readAll(refused.body, 100)).length).toBe(0);
    const failed = loadPageResource(
      fakeCdp({ success: false, netErrorName: 'net::ERR_NAME_NOT_RESOLVED' }).cdp,
      'frame',
      IMAGE,
    );
    await expect(failed).rejects.toBeInstanceOf(PageFetchError);
    await expect(failed).rejects.toMatchObject({ code: 'page_ERR_NAME_NOT_RESOLVED' });
  });

  it('a reader past the limit stops reading and closes the stream once', async () => {
    const { cdp, calls, closes } = fakeCdp(
      { success: true, httpStatusCode: 200, stream: '9' },
      Array.from({ length: 6 }, () => b64('x'.repeat(80))),
    );
    const res = await loadPageResource(cdp, 'frame', IMAGE);
    await expect(readAll(res.body, 100)).rejects.toThrow(/exceeds 100 bytes/);
    await new Promise((r) => setTimeout(r, 10));
    expect(closes()).toBe(1);
    // The reader's chunk and one ahead: the rest stays in Chrome.
    expect(calls.filter((c) => c === 'IO.read').length).toBeLessThanOrEqual(3);
  });

  it('an abort rejects at once and closes the stream when the late load arrives', async () => {
    const { cdp, closes } = fakeCdp({ success: true, httpStatusCode: 200, stream: '3' }, [], 50);
    const controller = new AbortController();
    const loading = loadPageResource(cdp, 'frame', IMAGE, controller.signal);
    controller.abort(new Error('client left'));
    await expect(loading).rejects.toThrow('client left');
    expect(closes()).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(closes()).toBe(1);
  });
});
