/**
 * The emulator answers a newer-form request (102 slots, the model selector at slot 79) in the
 * newer reply form: high fields in JSPB's sparse trailing objects, the model echoed as a list,
 * BardErrorInfo keyed by field number. The worker's own parser reads all of it.
 */
import { describe, expect, it } from 'vitest';
import { readFrames as readGeminiFrames } from '../../../src/gemini/frames.ts';
import { createFrameParser, type FramePart } from '../../../src/gemini/parse.ts';
import { generateForm, payloads, readFrames, signedIn, useTestEmulator } from './support.ts';

const t = useTestEmulator();
const THINKING = {
  'x-goog-ext-525001261-jspb': '[1,null,null,null,"5bf011840784117a",null,null,0,[4]]',
};

/** The 69-slot form widened to 102 slots, with the model number at 79 as newer clients send. */
function newerForm(at: string, prompt: string, modelNumber: number | null): string {
  const params = new URLSearchParams(generateForm(at, prompt));
  const outer = JSON.parse(params.get('f.req') ?? '') as [null, string];
  const inner = JSON.parse(outer[1]) as unknown[];
  inner.push(...new Array<unknown>(102 - inner.length).fill(null));
  inner[79] = modelNumber;
  params.set('f.req', JSON.stringify([null, JSON.stringify(inner)]));
  return params.toString();
}

async function parsedBy(body: string): Promise<{ parts: FramePart[]; shape: string | null }> {
  const parser = createFrameParser();
  const parts: FramePart[] = [];
  async function* once(): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode(body);
  }
  for await (const frame of readGeminiFrames(once())) {
    parts.push(...parser.parse(frame));
  }
  return { parts, shape: parser.shape };
}

describe('the newer reply form', () => {
  it('sends high fields sparse and the model name as a list, and records the request form', async () => {
    const s = await signedIn(t, 'newer@example.com');
    const res = await s.generate(newerForm(s.at, 'draw a newer cat', 1), THINKING);
    expect(res.status).toBe(200);
    const body = await res.text();
    const last = payloads(readFrames(body).frames).at(-1) ?? [];
    expect(last).toHaveLength(3);
    const tail = last[2] as Record<string, unknown>;
    expect(tail['43']).toEqual(['3 Flash Thinking']);
    expect(tail['26']).toEqual(expect.any(String));
    const cand = (tail['5'] as unknown[][])[0] ?? [];
    expect(cand).toHaveLength(3);
    expect(cand[0]).toMatch(/^rc_/);
    const candTail = cand[2] as Record<string, unknown>;
    expect(candTail['9']).toEqual([2]);
    expect(candTail['38']).toEqual([[expect.stringContaining('newer cat')]]);
    expect((candTail['13'] as unknown[])[2]).toHaveProperty('8');
    const record = t.emulator.records().at(-1);
    expect(record).toMatchObject({ requestSlots: 102, modelNumber: 1 });

    const { parts, shape } = await parsedBy(body);
    expect(parts.filter((p) => p.kind === 'drift')).toEqual([]);
    const answer = parts.filter((p) => p.kind === 'payload' && p.candidate).at(-1);
    expect(answer).toMatchObject({
      kind: 'payload',
      modelName: '3 Flash Thinking',
      contextToken: tail['26'],
      candidate: {
        status: 2,
        text: expect.stringContaining('draw a newer cat') as unknown,
        thoughts: expect.stringContaining('newer cat') as unknown,
        images: [{ kind: 'generated', url: expect.stringContaining('/gg-dl/') as unknown }],
      },
    });
    expect(shape).toBe('jspb-array');
  });

  it('keeps the positional form for the 69-slot request', async () => {
    const s = await signedIn(t, 'older@example.com');
    const body = await (await s.generate(generateForm(s.at, 'plain'))).text();
    const last = payloads(readFrames(body).frames).at(-1) ?? [];
    expect(Array.isArray(last[4])).toBe(true);
    expect(t.emulator.records().at(-1)).toMatchObject({ requestSlots: 69, modelNumber: null });
  });

  it('keys a BardErrorInfo error by field number, and the parser reads its code', async () => {
    const s = await signedIn(t, 'newer-error@example.com');
    t.emulator.injectFault('newer-error@example.com', 'usage_limit');
    const body = await (await s.generate(newerForm(s.at, 'x', 3))).text();
    const envelope = readFrames(body).frames[0]?.envelopes[0] ?? [];
    expect(envelope[5]).toEqual({
      '1': 3,
      '3': [[expect.stringMatching(/BardErrorInfo$/), { '1': 1037 }]],
    });
    const { parts } = await parsedBy(body);
    expect(parts).toContainEqual({ kind: 'error', code: 1037, rpcCode: 3 });
    expect(parts.filter((p) => p.kind === 'drift')).toEqual([]);
  });
});
