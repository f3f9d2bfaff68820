import { describe, expect, it } from 'vitest';
import { findModel, DEFAULT_MODEL } from '../../../src/gemini/models.ts';
import { buildStreamGenerate, createReqIdCounter } from '../../../src/gemini/request.ts';
import type { SessionTokens } from '../../../src/gemini/tokens.ts';
import type { ModelSpec } from '../../../src/gemini/types.ts';

const TOKENS: SessionTokens = {
  at: 'AT_TOKEN:1700000000000',
  bl: 'boq_assistant-bard-web-server_20260929.03_p0',
  fsid: '-1234567890123',
  language: 'en',
  pushId: 'feeds/x',
};
const FLASH = findModel('gemini-2.5-flash') as ModelSpec;

function decode(built: ReturnType<typeof buildStreamGenerate>): {
  at: string | null;
  inner: unknown[];
} {
  const form = new URLSearchParams(built.body);
  const outer = JSON.parse(form.get('f.req') ?? '') as [null, string];
  expect(outer[0]).toBeNull();
  return { at: form.get('at'), inner: JSON.parse(outer[1]) as unknown[] };
}

describe('buildStreamGenerate: request forms', () => {
  it('keeps the 69-slot form by default and builds the 102-slot one with the model number at 79', () => {
    const base = { tokens: TOKENS, reqId: 1, language: 'en', prompt: 'x', requestUuid: 'u' };
    const pro = findModel('gemini-3-pro') as ModelSpec;
    const old = decode(buildStreamGenerate({ ...base, model: pro })).inner;
    const wide = decode(buildStreamGenerate({ ...base, model: pro, form: 102 })).inner;
    expect(old).toHaveLength(69);
    expect(wide).toHaveLength(102);
    expect(wide.slice(0, 69)).toEqual(old);
    expect(wide[79]).toBe(3);
    const flash = decode(buildStreamGenerate({ ...base, model: FLASH, form: 102 })).inner;
    expect(flash[79]).toBe(1);
    const byDefault = decode(buildStreamGenerate({ ...base, model: DEFAULT_MODEL, form: 102 }));
    expect(byDefault.inner[79]).toBeNull();
  });
});

describe('buildStreamGenerate', () => {
  it('builds the query string with hl, _reqid, rt=c, bl and f.sid', () => {
    const built = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 12345,
      language: 'de',
      prompt: 'x',
      model: FLASH,
    });
    const url = new URL(built.url);
    expect(url.origin + url.pathname).toBe(
      'https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate',
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      hl: 'de',
      _reqid: '12345',
      rt: 'c',
      bl: TOKENS.bl,
      'f.sid': TOKENS.fsid,
    });
    const bare = buildStreamGenerate({
      tokens: { ...TOKENS, bl: null, fsid: null },
      reqId: 1,
      language: 'en',
      prompt: 'x',
      model: FLASH,
    });
    expect([...new URL(bare.url).searchParams.keys()]).toEqual(['hl', '_reqid', 'rt']);
  });

  it('sends the model header with its companions, and the request UUID header', () => {
    const built = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 1,
      language: 'en',
      prompt: 'x',
      model: FLASH,
      requestUuid: 'abcd-ef',
    });
    expect(built.headers).toMatchObject({
      'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
      origin: 'https://gemini.google.com',
      referer: 'https://gemini.google.com/',
      'x-same-domain': '1',
      'x-goog-ext-525001261-jspb': FLASH.header,
      'x-goog-ext-73010989-jspb': '[0]',
      'x-goog-ext-73010990-jspb': '[0]',
      'x-goog-ext-525005358-jspb': '["ABCD-EF",1]',
    });
    expect(built.requestUuid).toBe('ABCD-EF');
  });

  it('omits the model headers for the default model', () => {
    const built = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 1,
      language: 'en',
      prompt: 'x',
      model: DEFAULT_MODEL,
    });
    expect(Object.keys(built.headers)).not.toContain('x-goog-ext-525001261-jspb');
    expect(Object.keys(built.headers)).not.toContain('x-goog-ext-73010989-jspb');
  });

  it('encodes the 69-slot inner array for a new chat', () => {
    const built = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 1,
      language: 'en',
      prompt: 'Hi & = "ünï"',
      model: FLASH,
    });
    const { at, inner } = decode(built);
    expect(at).toBe(TOKENS.at);
    expect(inner).toHaveLength(69);
    expect(inner[0]).toEqual(['Hi & = "ünï"', 0, null, null, null, null, 0]);
    expect(inner[1]).toEqual(['en']);
    expect(inner[2]).toEqual(['', '', '', null, null, null, null, null, null, '']);
    expect([
      inner[6],
      inner[7],
      inner[10],
      inner[11],
      inner[18],
      inner[27],
      inner[53],
      inner[68],
    ]).toEqual([[1], 1, 1, 0, 0, 1, 0, 2]);
    expect([inner[17], inner[30], inner[41], inner[61]]).toEqual([[[0]], [4], [1], []]);
    expect(inner[59]).toBe(built.requestUuid);
    expect(built.headers['x-goog-ext-525005358-jspb']).toBe(JSON.stringify([inner[59], 1]));
    expect(inner[59]).toMatch(/^[0-9A-F-]{36}$/);
    const fixed = new Set([0, 1, 2, 6, 7, 10, 11, 17, 18, 27, 30, 41, 53, 59, 61, 68]);
    expect(inner.filter((v, i) => !fixed.has(i) && v !== null)).toEqual([]);
  });

  it('carries files and chat metadata with the context token', () => {
    const built = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 1,
      language: 'en',
      prompt: 'follow up',
      model: FLASH,
      files: [{ fileId: '/contrib_service/ttl_1d/abc', fileName: 'a.png' }],
      chat: { cid: 'c_1', rid: 'r_1', rcid: 'rc_1', contextToken: 'ctx' },
    });
    const { inner } = decode(built);
    expect(inner[0]).toEqual([
      'follow up',
      0,
      null,
      [[['/contrib_service/ttl_1d/abc'], 'a.png']],
      null,
      null,
      0,
    ]);
    expect(inner[2]).toEqual(['c_1', 'r_1', 'rc_1', null, null, null, null, null, null, 'ctx']);
  });

  it('gives every request a fresh UUID', () => {
    const a = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 1,
      language: 'en',
      prompt: 'x',
      model: FLASH,
    });
    const b = buildStreamGenerate({
      tokens: TOKENS,
      reqId: 1,
      language: 'en',
      prompt: 'x',
      model: FLASH,
    });
    expect(a.requestUuid).not.toBe(b.requestUuid);
  });
});

describe('createReqIdCounter', () => {
  it('starts in 10000-99999 and grows by 100000', () => {
    const low = createReqIdCounter(() => 0);
    expect([low(), low(), low()]).toEqual([10_000, 110_000, 210_000]);
    const high = createReqIdCounter(() => 0.999999);
    expect(high()).toBe(99_999);
    const real = createReqIdCounter();
    const first = real();
    expect(first).toBeGreaterThanOrEqual(10_000);
    expect(first).toBeLessThanOrEqual(99_999);
    expect(real() - first).toBe(100_000);
  });
});
