import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('applies the documented defaults per role', () => {
    const w = loadConfig('worker', { EXTERNAL_IP: '10.0.0.5' });
    expect(w.port).toBe(8000);
    expect(w.nodeUrl).toBe('http://10.0.0.5:8000');
    expect(w.cdpUrl).toBe('http://127.0.0.1:9222');
    expect(w.apiKeys).toEqual([]);
    expect(loadConfig('gateway', {}).port).toBe(8080);
  });

  it('limits the prompt and paces keep-alive comments, both configurable', () => {
    const d = loadConfig('worker', { EXTERNAL_IP: 'h' });
    expect(d.limits.promptChars).toBe(500_000);
    expect(d.sseKeepAliveMs).toBe(15_000);
    const c = loadConfig('worker', { MAX_PROMPT_CHARS: '100', SSE_KEEPALIVE_MS: '200' });
    expect(c.limits.promptChars).toBe(100);
    expect(c.sseKeepAliveMs).toBe(200);
    expect(() => loadConfig('worker', { MAX_PROMPT_CHARS: '0' })).toThrow(ConfigError);
    expect(d.limits.promptInlineChars).toBe(30_000);
    const inline = loadConfig('worker', { PROMPT_INLINE_MAX_CHARS: '2000' });
    expect(inline.limits.promptInlineChars).toBe(2000);
    expect(() => loadConfig('worker', { PROMPT_INLINE_MAX_CHARS: '10' })).toThrow(ConfigError);
  });

  it('maps claude-* names by ANTHROPIC_MODEL_MAP, with a default map; a bad entry is named', () => {
    expect(loadConfig('worker', {}).anthropicModelMap).toEqual({
      'claude-*haiku*': 'gemini-3-flash',
      'claude-*': 'gemini-3.0-pro',
    });
    const c = loadConfig('worker', {
      ANTHROPIC_MODEL_MAP: ' claude-*opus* = gemini-2.5-pro , claude-sonnet-4-5=gemini-3-flash,',
    });
    expect(c.anthropicModelMap).toEqual({
      'claude-*opus*': 'gemini-2.5-pro',
      'claude-sonnet-4-5': 'gemini-3-flash',
    });
    expect(() => loadConfig('worker', { ANTHROPIC_MODEL_MAP: 'claude-*' })).toThrow(
      /ANTHROPIC_MODEL_MAP: 'claude-\*' is not name=model/,
    );
  });

  it('security settings: closed by default, configurable', () => {
    const d = loadConfig('worker', {});
    expect(d.adminApiKeys).toEqual([]);
    expect(d.allowNoAuth).toBe(false);
    expect(d.trustProxy).toBe(false);
    expect(d.imageFetch).toEqual({ allowPrivate: false, timeoutMs: 15_000 });
    expect(d.limits).toMatchObject({ bodyBytes: 4 * 1024 * 1024, imagesPerRequest: 10 });
    expect(d.retention).toEqual({
      imagesMs: 24 * 3_600_000,
      uploadsMs: 24 * 3_600_000,
      conversationsMs: 14 * 24 * 3_600_000,
      sweepIntervalMs: 600_000,
    });
    const c = loadConfig('gateway', {
      ADMIN_API_KEYS: 'x1,x2',
      API_KEYS_FILE: 'keys/user.txt',
      ALLOW_NO_AUTH: '1',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
      IMAGE_URL_ALLOW_PRIVATE: 'yes',
      MAX_IMAGES_PER_REQUEST: '3',
      RETENTION_CONVERSATIONS_D: '0',
    });
    expect(c.adminApiKeys).toEqual(['x1', 'x2']);
    expect(c.apiKeysFile).toMatch(/keys\/user\.txt$/);
    expect(c.allowNoAuth).toBe(true);
    expect(c.trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(c.imageFetch.allowPrivate).toBe(true);
    expect(c.limits.imagesPerRequest).toBe(3);
    expect(c.retention.conversationsMs).toBe(0);
    expect(() => loadConfig('worker', { MAX_IMAGES_PER_REQUEST: '0' })).toThrow(ConfigError);
  });

  it('treats empty values as unset', () => {
    const c = loadConfig('worker', {
      PORT: '',
      EXTERNAL_PORT: ' ',
      EXTERNAL_IP: 'h',
      API_KEYS: ' a, ,b ',
    });
    expect(c.port).toBe(8000);
    expect(c.nodeUrl).toBe('http://h:8000');
    expect(c.apiKeys).toEqual(['a', 'b']);
  });

  it('builds the database URL from the seed variables, escaping the password', () => {
    const c = loadConfig('worker', {
      DB_HOST: 'db',
      DB_PORT: '61020',
      DB_USER: 'u',
      DB_PASSWORD: 'p@ss/w',
      DB_NAME: 'n',
    });
    expect(c.database.connectionString).toBe('postgresql://u:p%40ss%2Fw@db:61020/n');
    expect(
      loadConfig('worker', { DATABASE_URL: 'postgresql://x@y/z' }).database.connectionString,
    ).toBe('postgresql://x@y/z');
  });

  it('lists every bad variable in one error, without their values', () => {
    let err: unknown;
    try {
      loadConfig('worker', {
        PORT: 'eighty',
        GEMINI_WEIGHT: '-1',
        REDIS_URL: 'not a url',
        DEBUG: 'maybe',
        DB_PASSWORD: 'hunter22',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'GEMINI_WEIGHT', 'REDIS_URL', 'DEBUG']) {
      expect(problems).toContain(name);
    }
    expect((err as Error).message).not.toContain('hunter22');
  });

  it('GEMINI_TRANSPORT: node by default, page on request, page refused without a browser', () => {
    expect(loadConfig('worker', {}).transport).toBe('node');
    expect(loadConfig('worker', { GEMINI_TRANSPORT: 'page' }).transport).toBe('page');
    expect(() => loadConfig('worker', { GEMINI_TRANSPORT: 'tab' })).toThrow(/GEMINI_TRANSPORT/);
    expect(() => loadConfig('worker', { GEMINI_TRANSPORT: 'page', CHROME_CDP_URL: 'off' })).toThrow(
      /GEMINI_TRANSPORT: page needs a browser/,
    );
  });

  it('turns the browser off with CHROME_CDP_URL=off', () => {
    expect(loadConfig('worker', { CHROME_CDP_URL: 'off' }).cdpUrl).toBeNull();
  });
});
