import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { planAnswer, snapshotCount, snapshots } from '../../../src/emulator/answer.ts';
import { encodeFrame, errorEnvelope, FrameWriter } from '../../../src/emulator/frames.ts';
import { parseBatchFreq, parseGenerateFreq } from '../../../src/emulator/freq.ts';
import { chooseModel } from '../../../src/emulator/models.ts';
import { multipartBoundary, parseMultipart } from '../../../src/emulator/multipart.ts';
import { makePng } from '../../../src/emulator/png.ts';
import { readFrames } from './support.ts';

describe('frames', () => {
  it('reproduces the lengths and trailer of the protocol doc example', () => {
    // The inner payloads of the doc's synthesised example, verbatim.
    const ids = '"c_1a2b3c4d5e6f7a8b","r_9f8e7d6c5b4a3f2e"';
    const nulls = (n: number) => Array<string>(n).fill('null').join(',');
    const inner1 = `[null,[${ids}],null,null,[["rc_0a1b2c3d4e5f6a7b",["Hello"],${nulls(6)},[1]]]]`;
    const inner2 =
      `[null,[${ids}],null,null,[["rc_0a1b2c3d4e5f6a7b",["Hello! How can I help?"],${nulls(6)},[2]]],` +
      `${nulls(20)},"AwAAAAAAAAAQ_example"]`;
    const w = new FrameWriter();
    const body =
      w.prefix() +
      w.frame([['wrb.fr', null, inner1]]) +
      w.frame([['wrb.fr', null, inner2]]) +
      w.frame([
        ['di', 812],
        ['af.httprm', 811, '-1234567890123456789', 42],
      ]) +
      w.trailer();
    const { frames } = readFrames(body);
    expect(frames.map((f) => f.declaredLength)).toEqual([160, 302, 58, 25]);
    expect(frames[3]?.envelopes[0]).toEqual(['e', 5, null, null, 561]);
    expect(body.length).toBe(561);
  });

  it('counts UTF-16 code units, not bytes', () => {
    const frame = encodeFrame([['wrb.fr', null, '🌍你好']]);
    const json = '[["wrb.fr",null,"🌍你好"]]';
    expect(frame).toBe(`${json.length + 2}\n${json}\n`);
    expect(json.length + 2).not.toBe(Buffer.byteLength(json) + 2);
  });

  it('puts the error code at envelope[5][2][0][1][0]', () => {
    const e = errorEnvelope(1037);
    expect((((e[5] as unknown[])[2] as unknown[][])[0]?.[1] as number[])[0]).toBe(1037);
  });

  it('keeps the trailer total exact when its own digits roll over', () => {
    for (let pad = 0; pad < 40; pad += 1) {
      const w = new FrameWriter();
      const body = w.prefix() + w.frame([['x', 'y'.repeat(60 + pad)]]) + w.trailer();
      expect(readFrames(body).frames.at(-1)?.envelopes[0]?.[4]).toBe(body.length);
    }
  });
});

describe('answers', () => {
  it('grows snapshots by code points, never splitting a surrogate pair', () => {
    const text = 'ab🌍cd🌍';
    const snaps = snapshots(text, 8);
    expect(snaps.at(-1)).toBe(text);
    for (const s of snaps) {
      // A lone surrogate would not survive a UTF-8 round trip.
      expect(Buffer.from(s, 'utf8').toString('utf8')).toBe(s);
    }
  });

  it('streams 4 to 8 snapshots, fixed per prompt', () => {
    const counts = ['a', 'b', 'c', 'd', 'e', 'hello'].map(snapshotCount);
    expect(counts.every((c) => c >= 4 && c <= 8)).toBe(true);
    expect(new Set(counts).size).toBeGreaterThan(1);
    expect(snapshotCount('hello')).toBe(snapshotCount('hello'));
  });

  it('plans images, cards, files and thoughts from the prompt', () => {
    const files = [{ name: 'a.png', mimeType: 'image/png', bytes: 3 }];
    expect(
      planAnswer({ prompt: 'draw a fox', turn: 1, files: [], thinking: false }).generatedImage,
    ).toBe(true);
    expect(
      planAnswer({ prompt: 'show me a picture of a fox', turn: 1, files: [], thinking: false })
        .webImage,
    ).toBe(true);
    expect(
      planAnswer({ prompt: 'a withdrawal', turn: 1, files: [], thinking: false }).generatedImage,
    ).toBe(false);
    const card = planAnswer({ prompt: 'a card', turn: 3, files, thinking: true });
    expect(card.text).toBe('http://googleusercontent.com/card_content/0');
    expect(card.cardText).toContain(
      'Echo (turn 3): a card\n\nI received 1 file(s): a.png (image/png, 3 bytes)',
    );
    expect(card.thoughts).toContain('a card');
  });
});

describe('f.req', () => {
  it('reads the current 69-slot form', () => {
    const inner: unknown[] = new Array<unknown>(69).fill(null);
    inner[0] = ['hi', 0, null, [[['/contrib_service/ttl_1d/1'], 'a.png']], null, null, 0];
    inner[1] = ['de'];
    inner[2] = ['c_1', 'r_1', 'rc_1', null, null, null, null, null, null, 'ctx'];
    inner[7] = [1];
    inner[19] = 'coding-partner';
    inner[45] = 1;
    inner[59] = 'UUID';
    expect(parseGenerateFreq(JSON.stringify([null, JSON.stringify(inner)]))).toEqual({
      prompt: 'hi',
      files: [{ fileId: '/contrib_service/ttl_1d/1', fileName: 'a.png' }],
      lang: 'de',
      cid: 'c_1',
      rid: 'r_1',
      rcid: 'rc_1',
      contextToken: 'ctx',
      snapshotStreaming: true,
      gemId: 'coding-partner',
      temporary: true,
      requestUuid: 'UUID',
    });
  });

  it('reads the legacy form and rejects garbage', () => {
    const legacy = parseGenerateFreq(
      JSON.stringify([null, JSON.stringify([['yo'], null, ['c_2', 'r_2', 'rc_2']])]),
    );
    expect(legacy).toMatchObject({ prompt: 'yo', cid: 'c_2', contextToken: null, files: [] });
    for (const bad of ['', '[', '{}', '[null,"{"]', '[null,"[]"]', '[null,"[[1]]"]', 'null']) {
      expect(parseGenerateFreq(bad)).toBeNull();
    }
  });

  it('reads batchexecute calls, single-quoted payloads included', () => {
    expect(
      parseBatchFreq(`[[["otAQ7b","[]",null,"generic"],["CNgdBe","[3,['en'],0]",null,"generic"]]]`),
    ).toEqual([
      { rpcId: 'otAQ7b', payload: [] },
      { rpcId: 'CNgdBe', payload: [3, ['en'], 0] },
    ]);
    expect(parseBatchFreq('{}')).toBeNull();
  });
});

describe('model header', () => {
  it('tells default, known and invalid ids apart', () => {
    expect(chooseModel(undefined)).toEqual({ kind: 'default' });
    expect(chooseModel('[1,null,null,null,null,null,null,null,[4]]')).toEqual({ kind: 'default' });
    expect(chooseModel('[1,null,null,null,"9ec249fc9ad08861",null,null,0,[4]]')).toMatchObject({
      kind: 'known',
    });
    expect(chooseModel('[1,null,null,null,"ffffffffffffffff"]')).toEqual({
      kind: 'invalid',
      id: 'ffffffffffffffff',
    });
    expect(chooseModel('garbage')).toEqual({ kind: 'invalid', id: null });
  });
});

describe('multipart and PNG', () => {
  it('reads a file part and ignores malformed bodies', () => {
    const boundary = multipartBoundary('multipart/form-data; boundary=XyZ');
    expect(boundary).toBe('XyZ');
    const body = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\nthere\r\n--XyZ--\r\n',
    );
    expect(parseMultipart(body, 'XyZ')).toEqual([
      {
        name: 'file',
        fileName: 'a.txt',
        contentType: 'text/plain',
        data: Buffer.from('hi\r\nthere'),
      },
    ]);
    expect(parseMultipart(Buffer.from('--XyZ\r\nnonsense'), 'XyZ')).toEqual([]);
    expect(multipartBoundary('text/plain')).toBeNull();
  });

  it('makes a valid PNG whose chunks carry correct CRCs', () => {
    const png = makePng('seed', 16);
    expect(png.readUInt32BE(16)).toBe(16);
    let at = 8;
    while (at < png.length) {
      const len = png.readUInt32BE(at);
      const typed = png.subarray(at + 4, at + 8 + len);
      expect(png.readUInt32BE(at + 8 + len)).toBe(zlib.crc32(typed) >>> 0);
      at += 12 + len;
    }
    expect(at).toBe(png.length);
    expect(makePng('other').equals(png)).toBe(false);
  });
});
