/** GeminiClient.init: the preflight, scraping /app for its tokens, and what a bad page means. */
import { describe, expect, it } from 'vitest';
import {
  collect,
  cookies,
  fake,
  geminiError,
  makeClient,
  request,
  text,
  useClientHarness,
} from './support/client-harness.ts';
import {
  accountCookies,
  AT_TOKEN,
  BAD_PSID,
  BL,
  formOf,
  FSID,
  STREAM_PATH,
} from './support/fake-gemini.ts';

useClientHarness();

describe('GeminiClient.init', () => {
  it('preflights once, scrapes /app, and sends the tokens with StreamGenerate', async () => {
    const client = makeClient();
    await client.init();
    const { events, error } = await collect(client.generate(request()));
    expect(error).toBeNull();
    await collect(client.generate(request()));
    expect(fake.seen('GET', 'www.google.com/')).toHaveLength(1);
    expect(fake.seen('GET', 'gemini.google.com/app')).toHaveLength(1);
    const [post] = fake.seen('POST', STREAM_PATH);
    expect(post?.url.searchParams.get('bl')).toBe(BL);
    expect(post?.url.searchParams.get('f.sid')).toBe(FSID);
    expect(post?.url.searchParams.get('rt')).toBe('c');
    expect(formOf(post!).at).toBe(AT_TOKEN);
    expect(text(events)).toBe('Hello! How can I help?');
  });

  it('fails a logged-out page as auth after one refresh, never posting', async () => {
    cookies.cookies = accountCookies(BAD_PSID);
    const client = makeClient();
    const { error } = await collect(client.generate(request()));
    expect(geminiError(error).kind).toBe('auth');
    expect(cookies.calls.invalidate).toBe(1);
    expect(cookies.calls.refresh).toBe(1);
    expect(fake.seen('GET', 'gemini.google.com/app')).toHaveLength(2);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(0);
    await expect(client.init()).rejects.toMatchObject({ kind: 'auth' });
  });

  it('maps a 302 to /sorry to ip_blocked without a cookie refresh', async () => {
    fake.on('GET', 'gemini.google.com/app', (_req, res) => {
      res
        .writeHead(302, {
          location: 'https://www.google.com/sorry/index?continue=https://gemini.google.com/app',
        })
        .end();
    });
    const client = makeClient();
    const err = await client.init().then(
      () => null,
      (e: unknown) => e,
    );
    expect(geminiError(err).kind).toBe('ip_blocked');
    expect(geminiError(err).status).toBe(429);
    const { error } = await collect(client.generate(request()));
    expect(geminiError(error).kind).toBe('ip_blocked');
    expect(cookies.calls.refresh).toBe(0);
    expect(fake.seen('GET', 'www.google.com/sorry/index')).toHaveLength(0);
  });

  it('follows a same-host redirect on /app and treats a sign-in redirect as auth', async () => {
    fake.on('GET', 'gemini.google.com/app', (_req, res) => {
      res.writeHead(302, { location: '/app/home' }).end();
    });
    fake.on('GET', 'gemini.google.com/app/home', (_req, res) => {
      res.writeHead(302, { location: 'https://accounts.google.com/ServiceLogin?continue=x' }).end();
    });
    const err = await makeClient()
      .init()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(geminiError(err).kind).toBe('auth');
    expect(fake.seen('GET', 'gemini.google.com/app/home')).toHaveLength(1);
  });

  it('reuses the cached at token when a signed-in page omits it', async () => {
    const client = makeClient();
    await client.init();
    fake.on('GET', 'gemini.google.com/app', (_req, res) => {
      res.end(`<script>{"cfb2h":"${BL}","FdrFJe":"${FSID}","TuX5cc":"en"}</script>`);
    });
    await client.init();
    const { error } = await collect(client.generate(request()));
    expect(error).toBeNull();
    expect(formOf(fake.seen('POST', STREAM_PATH)[0]!).at).toBe(AT_TOKEN);
  });
});
