import { beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_TAIL } from '../../../src/emulator/index.ts';
import {
  generateForm,
  payloads,
  readFrames,
  signedIn,
  type ParsedFrame,
  useTestEmulator,
} from './support.ts';

const t = useTestEmulator();

type Cand = unknown[];
const candOf = (inner: unknown[]): Cand | undefined => (inner[4] as Cand[] | undefined)?.[0];
const textOf = (c: Cand): string => (c[1] as string[])[0] ?? '';
const statusOf = (c: Cand): number | undefined => (c[8] as number[] | undefined)?.[0];

describe('StreamGenerate framing', () => {
  let body = '';
  let frames: ParsedFrame[] = [];
  beforeAll(async () => {
    const s = await signedIn(t, 'frames@example.com');
    const res = await s.generate(generateForm(s.at, 'hello 世界 🌍'));
    expect(res.status).toBe(200);
    body = await res.text();
    frames = readFrames(body).frames;
  });

  it('frames lengths in UTF-16 units after the prefix', () => {
    expect(body.startsWith(")]}'\n\n")).toBe(true);
    for (const f of frames) {
      expect(f.declaredLength).toBe(f.json.length + 2);
    }
    // Multi-byte text makes byte and UTF-16 counts differ, so a byte-counting bug would show.
    expect(frames.some((f) => Buffer.byteLength(f.json) !== f.json.length)).toBe(true);
  });

  it('grows 4-8 cumulative snapshots to a final candidate', () => {
    const cands = payloads(frames)
      .map(candOf)
      .filter((c): c is Cand => c !== undefined);
    const texts = cands.map(textOf);
    expect(texts.length).toBeGreaterThanOrEqual(4);
    expect(texts.length).toBeLessThanOrEqual(8);
    for (let i = 1; i < texts.length; i += 1) {
      expect(texts[i]?.startsWith(texts[i - 1] ?? '')).toBe(true);
      expect(texts[i]?.length).toBeGreaterThan(texts[i - 1]?.length ?? 0);
    }
    expect(texts.at(-1)).toBe(`Echo (turn 1): hello 世界 🌍\n\n${ANSWER_TAIL}`);
    expect(cands.slice(0, -1).every((c) => statusOf(c) === 1)).toBe(true);
    expect(statusOf(cands.at(-1) ?? [])).toBe(2);
  });

  it('carries ids, the context token, and sparse title and model name', () => {
    const inners = payloads(frames);
    const last = inners.at(-1) ?? [];
    expect(last[1]).toEqual([
      expect.stringMatching(/^c_[0-9a-f]{16}$/),
      expect.stringMatching(/^r_[0-9a-f]{16}$/),
    ]);
    expect(candOf(last)?.[0]).toMatch(/^rc_[0-9a-f]{16}$/);
    expect(typeof last[25]).toBe('string');
    // Sparse trailing-object form: the title (field 11) and the model name (field 43).
    const title = '"11":["Echo: hello 世界 🌍"]';
    expect(inners.some((i) => String(JSON.stringify(i[2])).includes(title))).toBe(true);
    expect(last.at(-1)).toEqual({ '43': '3 Flash' });
  });

  it('ends with di/af.httprm and an e trailer counting envelopes and characters', () => {
    const tail = frames.slice(-2).map((f) => f.envelopes.map((e) => e[0]));
    expect(tail).toEqual([['di', 'af.httprm'], ['e']]);
    const count = frames.reduce((n, f) => n + f.envelopes.length, 0);
    expect(frames.at(-1)?.envelopes[0]).toEqual(['e', count, null, null, body.length]);
  });

  it('answers one JSON line without rt=c', async () => {
    const s = await signedIn(t, 'legacy@example.com');
    const res = await s.generate(generateForm(s.at, 'legacy'), {}, '');
    const body = await res.text();
    const lines = body.split('\n');
    expect(lines[0]).toBe(")]}'");
    const envelopes = JSON.parse(lines[2] ?? '') as unknown[][];
    const inner = JSON.parse(envelopes[0]?.[2] as string) as unknown[];
    expect(textOf(candOf(inner) ?? [])).toContain('Echo (turn 1): legacy');
    expect(statusOf(candOf(inner) ?? [])).toBe(2);
  });

  it('continues a known chat natively and counts turns', async () => {
    const s = await signedIn(t, 'chat@example.com');
    const first = payloads(
      readFrames(await (await s.generate(generateForm(s.at, 'one'))).text()).frames,
    );
    const last = first[first.length - 1] ?? [];
    const [cid, rid] = last[1] as [string, string];
    const rcid = candOf(last)?.[0] as string;
    const chat = { cid, rid, rcid, ctx: last[25] as string };
    const second = payloads(
      readFrames(await (await s.generate(generateForm(s.at, 'two', chat))).text()).frames,
    );
    const end = second[second.length - 1] ?? [];
    expect((end[1] as string[])[0]).toBe(cid);
    expect(textOf(candOf(end) ?? [])).toMatch(/^Echo \(turn 2\): two/);
    const records = t.emulator
      .records()
      .filter((r) => r.kind === 'generate' && r.email === 'chat@example.com');
    expect(records.map((r) => [r.prompt, r.cid])).toEqual([
      ['one', null],
      ['two', cid],
    ]);
    expect(records.every((r) => r.endedAt !== null && r.status === 200)).toBe(true);
  });

  it('starts a new chat for an unknown cid (no automatic rejection)', async () => {
    const s = await signedIn(t, 'unknown-cid@example.com');
    const chat = { cid: 'c_0000000000000000', rid: 'r_0', rcid: 'rc_0' };
    const inners = payloads(
      readFrames(await (await s.generate(generateForm(s.at, 'x', chat))).text()).frames,
    );
    const end = inners[inners.length - 1] ?? [];
    expect((end[1] as string[])[0]).not.toBe(chat.cid);
    expect(textOf(candOf(end) ?? [])).toMatch(/^Echo \(turn 1\)/);
  });

  it('rejects a missing session (401), a wrong at (400) and a malformed f.req (400)', async () => {
    const s = await signedIn(t, 'reject@example.com');
    const anon = await t.fetch(
      `https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?rt=c`,
      {
        method: 'POST',
        body: generateForm(s.at, 'x'),
      },
    );
    expect(anon.status).toBe(401);
    expect((await s.generate(generateForm('wrong', 'x'))).status).toBe(400);
    expect(
      (await s.generate(`at=${encodeURIComponent(s.at)}&f.req=%5Bnull%2C%22%5B%22`)).status,
    ).toBe(400);
    expect((await s.generate(`at=${encodeURIComponent(s.at)}&f.req=[[`)).status).toBe(400);
    const uuid = { 'x-goog-ext-525005358-jspb': '["00000000-0000-4000-8000-000000000000",1]' };
    expect((await s.generate(generateForm(s.at, 'x'), uuid)).status).toBe(400);
  });

  it('accepts the legacy 3-item f.req', async () => {
    const s = await signedIn(t, 'legacy3@example.com');
    const fReq = JSON.stringify([null, JSON.stringify([['old style'], null, null])]);
    const res = await s.generate(new URLSearchParams({ at: s.at, 'f.req': fReq }).toString());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Echo (turn 1): old style');
  });
});

describe('models', () => {
  const header = (id: string) => ({
    'x-goog-ext-525001261-jspb': `[1,null,null,null,"${id}",null,null,0,[4]]`,
  });

  it('records the model id and streams thoughts for a thinking model', async () => {
    const s = await signedIn(t, 'thinking@example.com');
    const frames = readFrames(
      await (await s.generate(generateForm(s.at, 'think'), header('5bf011840784117a'))).text(),
    ).frames;
    const cands = payloads(frames)
      .map(candOf)
      .filter((c): c is Cand => c !== undefined);
    const thoughts = cands.map((c) => (c[37] as string[][] | undefined)?.[0]?.[0] ?? '');
    expect(thoughts[0]?.length).toBeGreaterThan(0);
    expect(thoughts[thoughts.length - 1]).toContain('think');
    expect(textOf(cands[0] ?? [])).toBe('');
    expect(t.emulator.records().at(-1)?.model).toBe('5bf011840784117a');
  });

  it('answers 1052 in-band for an unknown model id', async () => {
    const s = await signedIn(t, 'badmodel@example.com');
    const res = await s.generate(generateForm(s.at, 'x'), header('0000000000000000'));
    expect(res.status).toBe(200);
    const { frames } = readFrames(await res.text());
    const error = frames[0]?.envelopes[0] as unknown[];
    expect(((error[5] as unknown[])[2] as unknown[][])[0]?.[1]).toEqual([1052]);
  });
});
