import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FormData } from 'undici';
import {
  CookieJar,
  generateForm,
  payloads,
  readFrames,
  signedIn,
  useTestEmulator,
} from './support.ts';

const t = useTestEmulator();

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The final candidate of a framed answer. */
async function finalCandidate(res: Response | import('undici').Response): Promise<unknown[]> {
  const inners = payloads(readFrames(await res.text()).frames);
  return (inners.at(-1)?.[4] as unknown[][] | undefined)?.[0] ?? [];
}

describe('upload', () => {
  it('accepts a multipart file with Push-ID and the answer acknowledges it', async () => {
    const s = await signedIn(t, 'upload@example.com');
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('0123456789')], { type: 'image/png' }), 'cat.png');
    const res = await t.fetch('https://content-push.googleapis.com/upload', {
      method: 'POST',
      headers: { 'push-id': 'feeds/mcudyrk2a4khkz', 'x-tenant-id': 'bard-storage' },
      body: form,
    });
    expect(res.status).toBe(200);
    const fileId = await res.text();
    expect(fileId).toMatch(/^\/contrib_service\/ttl_1d\/\d+i[0-9a-f]+$/);
    expect(t.emulator.records().at(-1)).toMatchObject({ kind: 'upload', status: 200 });

    const cand = await finalCandidate(
      await s.generate(generateForm(s.at, 'what is this', null, [[fileId, 'cat.png']])),
    );
    expect((cand[1] as string[])[0]).toContain(
      'I received 1 file(s): cat.png (image/png, 10 bytes)',
    );
    expect(t.emulator.records().at(-1)?.fileIds).toEqual([fileId]);
  });

  it('records what was pushed: its hash, and the content of a text file', async () => {
    await signedIn(t, 'upload-text@example.com');
    const push = async (data: string, type: string, name: string) => {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from(data)], { type }), name);
      const res = await t.fetch('https://content-push.googleapis.com/upload', {
        method: 'POST',
        headers: { 'push-id': 'feeds/mcudyrk2a4khkz' },
        body: form,
      });
      return { fileId: await res.text(), record: t.emulator.records().at(-1) };
    };
    const text = await push('the long prompt, 你好', 'text/plain', 'message.txt');
    expect(text.record?.upload).toEqual({
      fileId: text.fileId,
      name: 'message.txt',
      mimeType: 'text/plain',
      bytes: Buffer.byteLength('the long prompt, 你好'),
      sha256: createHash('sha256').update('the long prompt, 你好').digest('hex'),
      text: 'the long prompt, 你好',
    });
    const image = await push('0123456789', 'image/png', 'cat.png');
    expect(image.record?.upload?.sha256).toBe(
      createHash('sha256').update('0123456789').digest('hex'),
    );
    expect(image.record?.upload).not.toHaveProperty('text');
  });

  it('refuses an upload without Push-ID or without a file part', async () => {
    const noPush = await t.fetch('https://content-push.googleapis.com/upload', {
      method: 'POST',
      body: 'x',
    });
    expect(noPush.status).toBe(400);
    const form = new FormData();
    form.append('other', 'x');
    const noFile = await t.fetch('https://content-push.googleapis.com/upload', {
      method: 'POST',
      headers: { 'push-id': 'feeds/x' },
      body: form,
    });
    expect(noFile.status).toBe(400);
  });
});

describe('images', () => {
  it('a generated image 302s to fife, which serves a PNG only with the owner cookies', async () => {
    const s = await signedIn(t, 'draw@example.com');
    const cand = await finalCandidate(await s.generate(generateForm(s.at, 'please draw a cat')));
    expect((cand[1] as string[])[0]).toContain(
      'http://googleusercontent.com/image_generation_content/0',
    );
    const image = (((cand[12] as unknown[])[7] as unknown[][])[0] as unknown[][])[0] ?? [];
    const url = ((image[0] as unknown[])[3] as string[])[3] ?? '';
    expect(url).toMatch(/^https:\/\/lh3\.googleusercontent\.com\/gg-dl\/[\w-]+$/);
    expect((image[1] as string[])[0]).toBe(url.split('/gg-dl/')[1]);
    expect((image[3] as unknown[])[6]).toBe(1);

    const hop = await t.fetch(`${url}=s2048`, { headers: { cookie: s.jar.header() } });
    expect(hop.status).toBe(302);
    const fife = hop.headers.get('location') ?? '';
    expect(fife).toMatch(
      /^https:\/\/work\.fife\.usercontent\.google\.com\/rd-gg-dl\/[\w-]+=s2048$/,
    );

    expect((await t.fetch(fife)).status).toBe(403);
    const stranger = await signedIn(t, 'stranger@example.com');
    expect((await t.fetch(fife, { headers: { cookie: stranger.jar.header() } })).status).toBe(403);
    const ok = await t.fetch(fife, { headers: { cookie: s.jar.header() } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await ok.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(t.emulator.records().at(-1)).toMatchObject({
      kind: 'image',
      host: 'work.fife.usercontent.google.com',
      status: 200,
    });
    expect((await t.fetch('https://lh3.googleusercontent.com/gg-dl/unknown')).status).toBe(404);
  });

  it('a web image sits at cand[12][1] and is public', async () => {
    const s = await signedIn(t, 'web@example.com');
    const cand = await finalCandidate(
      await s.generate(generateForm(s.at, 'search images of owls')),
    );
    const web = ((cand[12] as unknown[])[1] as unknown[][])[0] ?? [];
    const url = ((web[0] as unknown[])[0] as string[])[0] ?? '';
    expect((web[0] as unknown[])[4]).toContain('owls');
    expect((web[7] as string[])[0]).toBe('Example picture');
    const res = await t.fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('a card answer puts the placeholder in cand[1][0] and the text in cand[22][0]', async () => {
    const s = await signedIn(t, 'card@example.com');
    const cand = await finalCandidate(await s.generate(generateForm(s.at, 'show a card')));
    expect(cand[1]).toEqual(['http://googleusercontent.com/card_content/0']);
    expect((cand[22] as string[])[0]).toMatch(/^Echo \(turn 1\): show a card/);
  });
});

describe('batchexecute', () => {
  const call = (jar: CookieJar, at: string | null, rpcs: [string, string][]) =>
    t.fetch('https://gemini.google.com/_/BardChatUi/data/batchexecute?rpcids=x&rt=c', {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...(at ? { at } : {}),
        'f.req': JSON.stringify([rpcs.map(([id, payload]) => [id, payload, null, 'generic'])]),
      }).toString(),
    });
  const replies = async (
    res: Awaited<ReturnType<typeof call>>,
  ): Promise<Record<string, unknown[]>> =>
    Object.fromEntries(
      readFrames(await res.text()).frames[0]!.envelopes.map((e) => [
        String(e[1]),
        JSON.parse(e[2] as string) as unknown[],
      ]),
    );

  it('otAQ7b reports 1000 with models when signed in, 1016 as a guest', async () => {
    const s = await signedIn(t, 'batch@example.com');
    const mine = await replies(
      await call(s.jar, s.at, [
        ['otAQ7b', '[]'],
        ['ESY5D', '[[["bard_activity_enabled"]]]'],
      ]),
    );
    expect(mine['otAQ7b']?.[14]).toBe(1000);
    expect(mine['otAQ7b']?.[15]).toContainEqual([
      '5bf011840784117a',
      '3 Flash Thinking',
      expect.any(String),
    ]);
    expect(mine['ESY5D']).toEqual([[['bard_activity_enabled', null, true]]]);
    const guest = await replies(await call(new CookieJar(), null, [['otAQ7b', '[]']]));
    expect(guest['otAQ7b']?.[14]).toBe(1016);
  });

  it('MaZiqc lists chats and hNvQHb reads one, newest turn first', async () => {
    const s = await signedIn(t, 'history@example.com');
    const inners = payloads(
      readFrames(await (await s.generate(generateForm(s.at, 'remember me'))).text()).frames,
    );
    const cid = (inners.at(-1)?.[1] as string[])[0] ?? '';
    const out = await replies(
      await call(s.jar, s.at, [
        ['MaZiqc', '[13,null,[1,null,1]]'],
        ['hNvQHb', JSON.stringify([cid, 10, null, 1, [1], [4], null, 1])],
      ]),
    );
    const chats = out['MaZiqc']?.[2] as unknown[][];
    expect(chats[0]?.[0]).toBe(cid);
    expect(chats[0]?.[1]).toBe('Echo: remember me');
    const turn = (out['hNvQHb']?.[0] as unknown[][])[0] ?? [];
    expect(((turn[2] as string[][])[0] ?? [])[0]).toBe('remember me');
    expect(JSON.stringify(turn[3])).toContain('Echo (turn 1): remember me');
  });

  it('refuses a wrong token or garbage with 400', async () => {
    const s = await signedIn(t, 'batchbad@example.com');
    expect((await call(s.jar, 'wrong', [['otAQ7b', '[]']])).status).toBe(400);
    const garbage = await t.fetch('https://gemini.google.com/_/BardChatUi/data/batchexecute', {
      method: 'POST',
      body: 'f.req=%7B%7D',
    });
    expect(garbage.status).toBe(400);
  });
});
