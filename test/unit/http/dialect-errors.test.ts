/**
 * Keys and errors by dialect: Google's clients may send the key as x-goog-api-key or ?key= (only
 * on /v1beta), Anthropic's as x-api-key; every refusal comes back in the shape of the dialect
 * the path speaks, so each official SDK raises its own authentication or not-found error.
 */
import express from 'express';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectOf, errorShaperFor } from '../../../src/api/index.ts';
import { authenticate, errorHandler, KeyRing, notFound } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';

const KEY = 'sk-dialect-user-0001';
let server: http.Server;
let base: string;

beforeAll(async () => {
  const app = express();
  const ring = new KeyRing({
    apiKeys: [KEY],
    adminApiKeys: [],
    apiKeysFile: null,
    adminApiKeysFile: null,
    allowNoAuth: false,
  });
  app.use(['/v1', '/v1beta'], authenticate(ring));
  app.post('/v1/messages', (_req, res) => res.json({ ok: 'anthropic' }));
  app.post('/v1/chat/completions', (_req, res) => res.json({ ok: 'openai' }));
  app.post('/v1beta/models/:action', (_req, res) => res.json({ ok: 'google' }));
  app.use(notFound);
  app.use(errorHandler(createLogger({ silent: true }), errorShaperFor));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => server.close());

const post = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers });

describe('dialectOf', () => {
  it('names the dialect of each path family', () => {
    expect(dialectOf('/v1/messages')).toBe('anthropic');
    expect(dialectOf('/v1/messages/count_tokens')).toBe('anthropic');
    expect(dialectOf('/v1beta/models/gemini-2.5-flash:generateContent')).toBe('google');
    expect(dialectOf('/v1/chat/completions')).toBe('openai');
    expect(dialectOf('/v1/messagesx')).toBe('openai');
    expect(dialectOf('/v1betax')).toBe('openai');
  });

  it('reads a path in any case, as express routes it', () => {
    expect(dialectOf('/v1/Messages')).toBe('anthropic');
    expect(dialectOf('/V1/MESSAGES/count_tokens')).toBe('anthropic');
    expect(dialectOf('/V1BETA/models/m:generateContent')).toBe('google');
  });
});

describe('keys by dialect', () => {
  it('accepts x-goog-api-key and ?key= on /v1beta', async () => {
    const header = await post('/v1beta/models/m:generateContent', { 'x-goog-api-key': KEY });
    expect(await header.json()).toEqual({ ok: 'google' });
    const query = await post(`/v1beta/models/m:generateContent?key=${KEY}`);
    expect(await query.json()).toEqual({ ok: 'google' });
  });

  it('accepts ?key= on /v1beta in any case, as express routes it', async () => {
    const res = await post(`/V1BETA/models/m:generateContent?key=${KEY}`);
    expect(await res.json()).toEqual({ ok: 'google' });
  });

  it('accepts x-api-key on /v1/messages', async () => {
    const res = await post('/v1/messages', { 'x-api-key': KEY });
    expect(await res.json()).toEqual({ ok: 'anthropic' });
  });

  it('refuses a URL key outside /v1beta, in OpenAI shape', async () => {
    const res = await post(`/v1/chat/completions?key=${KEY}`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string } };
    expect(body.error.type).toBe('authentication_error');
  });
});

describe('errors by dialect', () => {
  it('answers a missing key on /v1/messages in Anthropic shape', async () => {
    const res = await post('/v1/messages');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('authentication_error');
    expect(body.error.message).toMatch(/API key/);
  });

  it('answers a missing key on /v1/Messages in Anthropic shape too', async () => {
    const res = await post('/v1/Messages');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { type: string; error: { type: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('answers a wrong key on /v1beta in Google shape', async () => {
    const res = await post('/v1beta/models/m:generateContent?key=sk-wrong');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: number; status: string } };
    expect(body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
    expect(JSON.stringify(body)).not.toContain('sk-wrong');
  });

  it('answers an unknown /v1beta path in Google shape', async () => {
    const res = await post('/v1beta/nothing/here', { 'x-goog-api-key': KEY });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { status: string } };
    expect(body.error.status).toBe('NOT_FOUND');
  });
});
