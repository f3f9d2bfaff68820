import { describe, expect, it } from 'vitest';
import { readFrames, type Frame } from '../../../src/gemini/frames.ts';
import {
  body,
  chunksOf,
  inner,
  splitAt,
  SYNTHESIZED_EXAMPLE,
  trailer,
  wrb,
} from './support/wire-fixtures.ts';

const enc = new TextEncoder();

async function collect(chunks: readonly Uint8Array[]): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of readFrames(chunksOf(chunks))) {
    out.push(f);
  }
  return out;
}

/** A tiny deterministic PRNG, so a failing random split can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EMOJI_CJK_TEXT = 'Hi 👋🏽! 你好，世界。こんにちは 🇯🇵 — “quotes” and é';
const EMOJI_BODY = body(
  [wrb(inner({ text: 'Hi 👋🏽', status: 1 }))],
  [wrb(inner({ text: EMOJI_CJK_TEXT, status: 2, context: 'ctx' }))],
  ...trailer(4),
);

describe('readFrames', () => {
  it('reads the protocol doc synthesized example verbatim', async () => {
    const frames = await collect([enc.encode(SYNTHESIZED_EXAMPLE)]);
    expect(frames).toHaveLength(4);
    const lines = SYNTHESIZED_EXAMPLE.split('\n');
    expect(frames).toEqual(
      [lines[3], lines[5], lines[7], lines[9]].map((l) => JSON.parse(l ?? '') as unknown),
    );
  });

  it('counts frame lengths in UTF-16 code units, not bytes', async () => {
    const json = JSON.stringify([wrb(inner({ text: EMOJI_CJK_TEXT }))]);
    const framed = body([wrb(inner({ text: EMOJI_CJK_TEXT }))]);
    const header = Number(framed.split('\n')[2]);
    expect(header).toBe(json.length + 2);
    expect(header).not.toBe(enc.encode(json).length + 2);
    const frames = await collect([enc.encode(framed)]);
    expect(frames).toEqual([JSON.parse(json)]);
  });

  for (const [name, text] of [
    ['synthesized example', SYNTHESIZED_EXAMPLE],
    ['emoji and CJK reply', EMOJI_BODY],
  ] as const) {
    it(`yields identical frames for a ${name} split at every byte offset`, async () => {
      const bytes = enc.encode(text);
      const expected = await collect([bytes]);
      expect(expected.length).toBeGreaterThan(2);
      for (let i = 1; i < bytes.length; i += 1) {
        expect(await collect(splitAt(bytes, [i]))).toEqual(expected);
      }
    });

    it(`yields identical frames for a ${name} fed one byte at a time`, async () => {
      const bytes = enc.encode(text);
      const expected = await collect([bytes]);
      const offsets = Array.from({ length: bytes.length }, (_, i) => i);
      expect(await collect(splitAt(bytes, offsets))).toEqual(expected);
    });

    it(`yields identical frames for a ${name} under random multi-splits`, async () => {
      const bytes = enc.encode(text);
      const expected = await collect([bytes]);
      const random = mulberry32(0x5eed);
      for (let round = 0; round < 300; round += 1) {
        const count = 1 + Math.floor(random() * 12);
        const offsets = Array.from({ length: count }, () => Math.floor(random() * bytes.length));
        expect(await collect(splitAt(bytes, offsets))).toEqual(expected);
      }
    });
  }

  it('splits inside a multi-byte character without corrupting it', async () => {
    const bytes = enc.encode(EMOJI_BODY);
    const emojiStart = bytes.findIndex((b) => b === 0xf0);
    const frames = await collect(splitAt(bytes, [emojiStart + 1, emojiStart + 2, emojiStart + 3]));
    expect(JSON.stringify(frames)).toContain('👋🏽');
    expect(JSON.stringify(frames)).not.toContain('\uFFFD');
  });

  it('reads the legacy unframed form (one JSON line holding every envelope)', async () => {
    const envelopes = [
      wrb(inner({ text: 'legacy', status: 2 })),
      ['di', 10],
      ['e', 3, null, null, 99],
    ];
    const frames = await collect([enc.encode(`)]}'\n\n${JSON.stringify(envelopes)}`)]);
    expect(frames).toEqual([envelopes]);
  });

  it('falls back to lines when a server counts bytes instead of UTF-16 units', async () => {
    const a = JSON.stringify([wrb(inner({ text: '你好👋 first' }))]);
    const b = JSON.stringify([wrb(inner({ text: '你好👋 second', status: 2 }))]);
    const wrong = (j: string) => `${enc.encode(j).length + 2}\n${j}\n`;
    const text = `)]}'\n\n${wrong(a)}${wrong(b)}`;
    const expected = [JSON.parse(a), JSON.parse(b)];
    expect(await collect([enc.encode(text)])).toEqual(expected);
    const bytes = enc.encode(text);
    for (let i = 1; i < bytes.length; i += 7) {
      expect(await collect(splitAt(bytes, [i]))).toEqual(expected);
    }
  });

  it('keeps complete frames of a truncated body and drops the partial one', async () => {
    const full = body([['di', 1]], [wrb(inner({ text: 'cut here' }))]);
    const frames = await collect([enc.encode(full.slice(0, full.length - 20))]);
    expect(frames).toEqual([[['di', 1]]]);
  });

  it('skips junk lines and accepts a body without the XSSI prefix', async () => {
    const text = `garbage line\n${body([['di', 2]]).replace(")]}'\n\n", '')}not json either\n`;
    expect(await collect([enc.encode(text)])).toEqual([[['di', 2]]]);
  });

  it('yields nothing for an empty body', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect([enc.encode(")]}'\n")])).toEqual([]);
  });
});
