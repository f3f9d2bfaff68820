import { describe, expect, it } from 'vitest';
import { GeminiError } from '../../../src/gemini/errors.ts';
import { DEFAULT_PUSH_ID, resolveTokens, scrapePage } from '../../../src/gemini/tokens.ts';

const SIGNED_IN_PAGE = `<!doctype html><script>window.WIZ_global_data = {"SNlM0e":"AFQ_token:1700000000000","cfb2h": "boq_assistant-bard-web-server_20260929.03_p0","FdrFJe":"-6543210987654321","TuX5cc":"en","qKIAYe":"feeds/mcudyrk2a4khkz","other":"x\\u003dy"};</script>`;
const GUEST_PAGE = `<script>window.WIZ_global_data = {"cfb2h":"boq_x","FdrFJe":"123"};</script>`;

describe('scrapePage', () => {
  it('reads every key, with or without space after the colon', () => {
    expect(scrapePage(SIGNED_IN_PAGE)).toEqual({
      at: 'AFQ_token:1700000000000',
      bl: 'boq_assistant-bard-web-server_20260929.03_p0',
      fsid: '-6543210987654321',
      language: 'en',
      pushId: 'feeds/mcudyrk2a4khkz',
      models: null,
    });
  });

  it('reads the bootstrap model lists when the page has them', () => {
    const page = SIGNED_IN_PAGE.replace(
      '"other"',
      '"Xq7Lfe":"fast=fbb127bbb056c959","Yb2Rde":"thinking=5bf011840784117a","other"',
    );
    expect(scrapePage(page).models).toEqual({
      fast: ['fbb127bbb056c959'],
      thinking: ['5bf011840784117a'],
      dropped: 0,
    });
  });

  it('decodes JSON escapes in values', () => {
    expect(scrapePage('{"SNlM0e":"a\\u003db\\/c"}').at).toBe('a=b/c');
  });

  it('reports absent keys as null', () => {
    expect(scrapePage(GUEST_PAGE)).toEqual({
      at: null,
      bl: 'boq_x',
      fsid: '123',
      language: null,
      pushId: null,
      models: null,
    });
  });
});

describe('resolveTokens', () => {
  it('uses the page token and the default Push-ID when qKIAYe is missing', () => {
    const t = resolveTokens({ ...scrapePage(SIGNED_IN_PAGE), pushId: null }, null);
    expect(t.at).toBe('AFQ_token:1700000000000');
    expect(t.pushId).toBe(DEFAULT_PUSH_ID);
  });

  it('treats the guest page (no SNlM0e, no TuX5cc) as auth, even with a cached token', () => {
    for (const cached of [null, 'old_token']) {
      const err = (() => {
        try {
          resolveTokens(scrapePage(GUEST_PAGE), cached);
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(GeminiError);
      expect((err as GeminiError).kind).toBe('auth');
      expect((err as GeminiError).message).not.toContain('old_token');
    }
  });

  it('reuses the last good token when a signed-in page omits SNlM0e', () => {
    const page = { ...scrapePage(SIGNED_IN_PAGE), at: null };
    expect(resolveTokens(page, 'last_good').at).toBe('last_good');
    expect(() => resolveTokens(page, null)).toThrow(GeminiError);
  });
});
