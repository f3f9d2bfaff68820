/**
 * Which requests the fast path takes (takeRelayed, src/gateway/fast-path.ts), spelling by
 * spelling: only a POST to a relayed path spelled exactly, with an identity body and a URL that
 * express's parser (parseurl) reads the same way; everything else is express's.
 */
import { describe, expect, it } from 'vitest';
import { takeRelayed } from '../../../src/gateway/index.ts';

const taken = (url: string, headers: Record<string, string> = {}, method = 'POST') => {
  const t = takeRelayed(method, url, headers);
  return t && { route: t.route.path, path: t.path, ...t.target };
};

describe('takeRelayed', () => {
  it('takes every relayed path spelled exactly, with its query', () => {
    for (const path of [
      '/v1/chat/completions',
      '/v1/completions',
      '/v1/responses',
      '/v1/messages',
      '/v1/messages/count_tokens',
    ]) {
      expect(taken(path), path).toEqual({ route: path, path, action: '', search: '' });
    }
    // Taken, but its ?key= is never read on /v1 (the differential test shows both refuse it).
    expect(taken('/v1/messages?key=sk-user&x=1')).toMatchObject({ search: '?key=sk-user&x=1' });
  });

  it("takes Google's model paths, their action decoded as express decodes a parameter", () => {
    expect(taken('/v1beta/models/g:generateContent?key=k')).toEqual({
      route: '/v1beta/models',
      path: '/v1beta/models/g:generateContent',
      action: 'g:generateContent',
      search: '?key=k',
    });
    expect(taken('/v1beta/models/g%2Fx%3AcountTokens')).toMatchObject({
      action: 'g/x:countTokens',
    });
    for (const url of [
      '/v1beta/models/g%E0:generateContent', // does not decode: express's 400
      '/v1beta/models/a/b:generateContent',
      '/v1beta/models/',
      '/v1beta/models',
      '/v1beta/models:generateContent',
    ]) {
      expect(taken(url), url).toBeNull();
    }
  });

  it('leaves any other spelling to express: case, trailing slash, dot segments, absolute form', () => {
    for (const url of [
      '/V1/Chat/Completions',
      '/v1/chat/completions/',
      '/v1/chat/completions/?x=1',
      '/v1/chat/./completions',
      '//v1/chat/completions',
      '/v1/chat%2Fcompletions',
      '/V1BETA/models/g:generateContent',
      'http://gateway/v1/chat/completions',
    ]) {
      expect(taken(url), url).toBeNull();
    }
  });

  it('leaves to express a URL its parser reads otherwise (# and whitespace: url.parse)', () => {
    for (const char of ['#', '\t', '\n', '\f', '\r', ' ', '\u00a0', '\ufeff']) {
      for (const url of [
        `/v1beta/models/gem${char}ini:generateContent?key=sk-user`,
        `/v1beta/models/g:generateContent?key=sk${char}`,
        `/v1/chat/completions${char}`,
        `/v1/chat/completions?a=${char}`,
      ]) {
        expect(taken(url), JSON.stringify(url)).toBeNull();
      }
    }
  });

  it('takes POST only, and identity bodies only (express.raw inflates the others)', () => {
    for (const method of ['GET', 'PUT', 'HEAD', 'OPTIONS', 'post']) {
      expect(taken('/v1/chat/completions', {}, method), method).toBeNull();
    }
    expect(takeRelayed('POST', undefined, {})).toBeNull();
    for (const encoding of ['gzip', 'deflate', 'br', 'GZIP', 'identity, gzip']) {
      expect(taken('/v1/messages', { 'content-encoding': encoding }), encoding).toBeNull();
    }
    for (const encoding of ['identity', 'IDENTITY']) {
      expect(taken('/v1/messages', { 'content-encoding': encoding }), encoding).not.toBeNull();
    }
  });
});
