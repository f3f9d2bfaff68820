/**
 * GeminiClient.generate answering: what it yields and sends, the cookies it keeps, the one
 * refresh-and-retry it allows before anything was yielded, how it classifies failures, and the
 * secrets it keeps out of logs and errors.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../../../src/gemini/models.ts';
import { ServiceUnavailableError } from '../../../src/errors.ts';
import {
  collect,
  cookies,
  fake,
  FLASH,
  geminiError,
  logText,
  makeClient,
  request,
  text,
  useClientHarness,
} from './support/client-harness.ts';
import { cookiesOf } from './support/fake-google.ts';
import {
  accountCookies,
  answer,
  AT_TOKEN,
  BAD_PSID,
  formOf,
  GOOD_PSID,
  STREAM_PATH,
} from './support/fake-gemini.ts';
import { body, errorEnvelope, snapshots, trailer } from './support/wire-fixtures.ts';

useClientHarness();

describe('GeminiClient.generate', () => {
  it('yields metadata, deltas and done, and sends the model and UUID headers', async () => {
    const { events, error } = await collect(
      makeClient().generate(request({ prompt: 'Grüß dich 👋' })),
    );
    expect(error).toBeNull();
    expect(events[0]).toMatchObject({
      type: 'metadata',
      chat: { cid: expect.any(String) as unknown },
    });
    const done = events.at(-1);
    expect(done).toMatchObject({
      type: 'done',
      result: { text: 'Hello! How can I help?', chat: { contextToken: 'ctx_token_1' } },
    });
    const post = fake.seen('POST', STREAM_PATH)[0]!;
    const { inner: innerArr } = formOf(post);
    expect((innerArr[0] as unknown[])[0]).toBe('Grüß dich 👋');
    expect(post.headers['x-goog-ext-525001261-jspb']).toBe(FLASH.header);
    expect(post.headers['x-goog-ext-525005358-jspb']).toBe(JSON.stringify([innerArr[59], 1]));
    expect(post.headers['x-same-domain']).toBe('1');
    expect(post.headers.host).toBe('gemini.google.com');
  });

  it('omits the model header for the default model', async () => {
    const { error } = await collect(makeClient().generate(request({ model: DEFAULT_MODEL })));
    // Without a completed POST the header check below would pass vacuously.
    expect(error).toBeNull();
    expect(fake.seen('POST', STREAM_PATH)[0]?.headers['x-goog-ext-525001261-jspb']).toBeUndefined();
  });

  it('absorbs Set-Cookie from Google hosts and sends them on later requests', async () => {
    await collect(makeClient().generate(request()));
    expect(cookies.absorbed.map((c) => c.name).sort()).toEqual(['NID', '__Secure-1PSIDCC']);
    expect(cookies.absorbed.find((c) => c.name === 'NID')).toMatchObject({
      domain: '.google.com',
      secure: true,
    });
    const sent = cookiesOf(fake.seen('POST', STREAM_PATH)[0]!);
    expect(sent).toMatchObject({
      '__Secure-1PSID': GOOD_PSID,
      NID: 'nid_cookie_value_42',
      '__Secure-1PSIDCC': 'psidcc_rotated_value',
    });
  });

  it('refreshes cookies and retries once after a 401, before anything was yielded', async () => {
    let calls = 0;
    fake.on('POST', STREAM_PATH, (_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(401).end();
        return;
      }
      answer(res, 'Second time lucky');
    });
    const { events, error } = await collect(makeClient().generate(request()));
    expect(error).toBeNull();
    expect(text(events)).toBe('Second time lucky');
    expect(cookies.calls).toMatchObject({ invalidate: 1, refresh: 1 });
    expect(fake.seen('GET', 'gemini.google.com/app')).toHaveLength(2);
  });

  it('heals a logged-out session through refresh and retries once', async () => {
    cookies.cookies = accountCookies(BAD_PSID);
    cookies.afterRefresh = accountCookies(GOOD_PSID);
    const { events, error } = await collect(makeClient().generate(request()));
    expect(error).toBeNull();
    expect(text(events)).toBe('Hello! How can I help?');
    expect(cookies.calls).toMatchObject({ invalidate: 1, refresh: 1 });
    expect(cookiesOf(fake.seen('POST', STREAM_PATH)[0]!)['__Secure-1PSID']).toBe(GOOD_PSID);
  });

  it('still fails as auth when the retry is rejected too', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(403).end();
    });
    const { error } = await collect(makeClient().generate(request()));
    expect(geminiError(error).kind).toBe('auth');
    expect(geminiError(error).status).toBe(503);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(2);
    expect(cookies.calls.refresh).toBe(1);
  });

  it('re-scrapes the page once after a 400, then reports bad_request', async () => {
    let calls = 0;
    fake.on('POST', STREAM_PATH, (_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(400).end();
        return;
      }
      answer(res, 'Fresh token worked');
    });
    const ok = await collect(makeClient().generate(request()));
    expect(text(ok.events)).toBe('Fresh token worked');
    expect(fake.seen('GET', 'gemini.google.com/app')).toHaveLength(2);
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(400).end();
    });
    const bad = await collect(makeClient().generate(request()));
    expect(geminiError(bad.error).kind).toBe('bad_request');
    expect(cookies.calls.refresh).toBe(0);
  });

  for (const [status, bodyText, kind] of [
    [429, 'Too many requests', 'quota'],
    [429, '<a href="https://www.google.com/sorry/index?continue=x">sorry</a>', 'ip_blocked'],
    [500, '', 'transient'],
    [503, '', 'transient'],
  ] as const) {
    it(`classifies HTTP ${status}${kind === 'ip_blocked' ? ' (/sorry)' : ''} as ${kind}, without retrying`, async () => {
      fake.on('POST', STREAM_PATH, (_req, res) => {
        res.writeHead(status).end(bodyText);
      });
      const { error } = await collect(makeClient().generate(request()));
      expect(geminiError(error).kind).toBe(kind);
      expect(geminiError(error).httpStatus).toBe(status);
      expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
    });
  }

  it('treats a StreamGenerate redirect to /sorry as ip_blocked', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(302, { location: 'https://www.google.com/sorry/index' }).end();
    });
    const { error } = await collect(makeClient().generate(request()));
    expect(geminiError(error).kind).toBe('ip_blocked');
  });

  it('throws the classified in-band error (1037 -> quota) and does not retry', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.end(body([errorEnvelope(1037)], ...trailer(3)));
    });
    const { events, error } = await collect(makeClient().generate(request()));
    expect(events).toEqual([]);
    expect(geminiError(error)).toMatchObject({ kind: 'quota', upstreamCode: 1037 });
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
  });

  it('ignores 1096 after a complete answer', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.end(body(...snapshots('Done and dusted', 2), [errorEnvelope(1096)], ...trailer(5)));
    });
    const { events, error } = await collect(makeClient().generate(request()));
    expect(error).toBeNull();
    expect(text(events)).toBe('Done and dusted');
  });

  it('reports a cookie source failure as transient, and passes its AppErrors through', async () => {
    cookies.getCookies = () => Promise.reject(new Error('CDP socket hang up'));
    const { error } = await collect(makeClient().generate(request()));
    expect(geminiError(error).kind).toBe('transient');
    expect(geminiError(error).message).toMatch(/account cookies/);
    const unavailable = new ServiceUnavailableError('Browser away', 30);
    cookies.getCookies = () => Promise.reject(unavailable);
    const second = await collect(makeClient().generate(request()));
    expect(second.error).toBe(unavailable);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(0);
  });

  it('keeps cookie values and the at token out of logs and errors', async () => {
    cookies.cookies = accountCookies(BAD_PSID);
    const client = makeClient();
    const failed = await collect(client.generate(request()));
    cookies.cookies = accountCookies(GOOD_PSID);
    await collect(client.generate(request()));
    const logs = logText();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      GOOD_PSID,
      BAD_PSID,
      AT_TOKEN,
      'nid_cookie_value_42',
      'psidcc_rotated_value',
    ]) {
      expect(logs).not.toContain(secret);
      expect(JSON.stringify(failed.error)).not.toContain(secret);
      expect(String((failed.error as Error).message)).not.toContain(secret);
    }
  });
});
