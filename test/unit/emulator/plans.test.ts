/**
 * Tiers in the emulator: otAQ7b answers per tier (models, flags), the model header is checked
 * against the tier (id and tail), a withdrawn model disappears and is refused, the control API
 * drives it all, and the drift faults answer in shapes nobody parses.
 */
import { describe, expect, it } from 'vitest';
import {
  generateForm,
  payloads,
  readFrames,
  signedIn,
  useTestEmulator,
  type SignedIn,
} from './support.ts';

const t = useTestEmulator();

const header = (id: string, tail?: number) =>
  tail === undefined
    ? `[1,null,null,null,"${id}",null,null,0,[4]]`
    : `[1,null,null,null,"${id}",null,null,0,[4],null,null,${tail}]`;

async function accountStatus(s: SignedIn): Promise<unknown> {
  const res = await t.fetch('https://gemini.google.com/_/BardChatUi/data/batchexecute?rt=c', {
    method: 'POST',
    headers: { cookie: s.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      at: s.at,
      'f.req': JSON.stringify([[['otAQ7b', '[]', null, 'generic']]]),
    }).toString(),
  });
  const envelope = readFrames(await res.text()).frames[0]?.envelopes[0] ?? [];
  return JSON.parse(envelope[2] as string) as unknown;
}

/** The in-band error code of a StreamGenerate reply, or null when it answered. */
async function errorCode(s: SignedIn, modelHeader: string): Promise<number | null> {
  const res = await s.generate(generateForm(s.at, 'hello'), {
    'x-goog-ext-525001261-jspb': modelHeader,
  });
  const frames = readFrames(await res.text()).frames;
  const error = frames.flatMap((f) => f.envelopes).find((e) => Array.isArray(e[5]));
  const detail = (error?.[5] as unknown[] | undefined)?.[2] as unknown[][][] | undefined;
  return (detail?.[0]?.[1]?.[0] as number | undefined) ?? null;
}

describe('tiers', () => {
  it('answer otAQ7b with each tier its models and flags; the e-mail tag picks the tier', async () => {
    const free = (await accountStatus(await signedIn(t, 'a+free@example.com'))) as unknown[];
    const pro = (await accountStatus(await signedIn(t, 'a+pro@example.com'))) as unknown[];
    const plus = await signedIn(t, 'plain-plus@example.com');
    t.emulator.setPlan('plain-plus@example.com', { tier: 'plus' });
    const plusStatus = (await accountStatus(plus)) as unknown[];
    const ids = (status: unknown[]) => (status[15] as string[][]).map((m) => m[0]);
    expect(ids(free)).toEqual(['fbb127bbb056c959', '5bf011840784117a']);
    expect(ids(pro)).toEqual(['e6fa609c3fa255c0', '56fdd199312815e2', 'e051ce1aa80aa576']);
    expect(ids(plusStatus)).toContain('8c46e95b1a07cecc');
    expect([free[16], free[17]]).toEqual([[], []]);
    expect([pro[16], pro[17]]).toEqual([[8], [19]]);
    expect(plusStatus[17]).toEqual([115]);
    expect(free[14]).toBe(1000);
  });

  it("refuse another tier's id or a wrong tail with 1052; an untiered account takes any id", async () => {
    const pro = await signedIn(t, 'b+pro@example.com');
    expect(await errorCode(pro, header('e6fa609c3fa255c0', 2))).toBeNull();
    expect(await errorCode(pro, header('e6fa609c3fa255c0', 1))).toBe(1052);
    expect(await errorCode(pro, header('fbb127bbb056c959', 1))).toBeNull();
    expect(await errorCode(pro, header('fbb127bbb056c959', 2))).toBe(1052);
    const free = await signedIn(t, 'b+free@example.com');
    expect(await errorCode(free, header('e6fa609c3fa255c0', 2))).toBe(1052);
    const plain = await signedIn(t, 'b-plain@example.com');
    expect(await errorCode(plain, header('9ec249fc9ad08861'))).toBeNull();
    expect(await errorCode(plain, header('e6fa609c3fa255c0', 4))).toBeNull();
  });

  it('withdraw a model through the control API: no longer offered, and refused', async () => {
    const s = await signedIn(t, 'c+pro@example.com');
    const control = (method: string, path: string, body?: unknown) =>
      t.fetch(`https://gemini.google.com/__emulator/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const res = await control('POST', 'withdrawn-models', {
      modelId: 'e051ce1aa80aa576',
      email: 'c+pro@example.com',
    });
    expect(res.status).toBe(200);
    const ids = ((await accountStatus(s)) as unknown[][])[15]!.map((m) => (m as string[])[0]);
    expect(ids).toEqual(['e6fa609c3fa255c0', '56fdd199312815e2']);
    expect(await errorCode(s, header('e051ce1aa80aa576', 2))).toBe(1052);
    expect((await control('POST', 'plans', { email: 'x@example.com', tier: 'gold' })).status).toBe(
      400,
    );
    expect(
      (await control('POST', 'plans', { email: 'c+pro@example.com', statusCode: 1060 })).status,
    ).toBe(200);
    expect(((await accountStatus(s)) as unknown[])[14]).toBe(1060);
    expect((await control('DELETE', 'withdrawn-models')).status).toBe(200);
    expect(await errorCode(s, header('e051ce1aa80aa576', 2))).toBeNull();
  });
});

describe('unknown shapes', () => {
  it('otAQ7b answers with its fields moved, once per injected fault', async () => {
    const s = await signedIn(t, 'shape@example.com');
    t.emulator.injectFault('shape@example.com', 'status_shape');
    const moved = (await accountStatus(s)) as { status: string; availableModels: unknown[] };
    expect(moved.status).toBe('OK');
    expect(moved.availableModels.length).toBeGreaterThan(0);
    expect(((await accountStatus(s)) as unknown[])[14]).toBe(1000);
  });

  it('StreamGenerate answers with candidates as objects and an unknown envelope', async () => {
    const s = await signedIn(t, 'shape2@example.com');
    t.emulator.injectFault('shape2@example.com', 'unknown_shape');
    const frames = readFrames(await (await s.generate(generateForm(s.at, 'hi'))).text()).frames;
    const inner = payloads(frames)[0] ?? [];
    const candidate = (inner[4] as { responseId?: unknown }[])[0];
    expect(typeof candidate?.responseId).toBe('string');
    expect(frames[0]?.envelopes.map((e) => e[0])).toContain('wrb.fr2');
  });
});
