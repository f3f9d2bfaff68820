import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiClient } from '../../../src/gemini/client.ts';
import { GeminiError } from '../../../src/gemini/errors.ts';
import { createHttpClient, type HttpClient } from '../../../src/gemini/http.ts';
import { DEFAULT_MODEL, findModel } from '../../../src/gemini/models.ts';
import type {
  GenerateEvent,
  GenerateRequest,
  ModelSpec,
  SendGate,
  SendOutcome,
} from '../../../src/gemini/types.ts';
import { ServiceUnavailableError, UpstreamOutcomeUnknownError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/logging.ts';
import { cookiesOf, startFakeGoogle, type FakeGoogle } from './support/fake-google.ts';
import {
  accountCookies,
  answer,
  AT_TOKEN,
  BAD_PSID,
  BL,
  FakeCookieSource,
  formOf,
  FSID,
  GOOD_PSID,
  installGemini,
  PUSH_ID,
  STREAM_PATH,
} from './support/fake-gemini.ts';
import { createTestCertificates, type TestCertificates } from './support/test-ca.ts';
import {
  body,
  errorEnvelope,
  frame,
  snapshots,
  trailer,
  wrb,
  inner,
} from './support/wire-fixtures.ts';

const FLASH = findModel('gemini-2.5-flash') as ModelSpec;

let certs: TestCertificates;
let fake: FakeGoogle;
let http: HttpClient;
let cookies: FakeCookieSource;
let logs: string;
let clients: GeminiClient[];

beforeAll(async () => {
  certs = await createTestCertificates();
});

beforeEach(async () => {
  fake = await startFakeGoogle(certs);
  installGemini(fake);
  http = createHttpClient({ hostResolverRules: fake.rules, ca: certs.caCert });
  cookies = new FakeCookieSource(accountCookies(GOOD_PSID));
  logs = '';
  clients = [];
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await http.close();
  await fake.close();
});

function makeClient(stallTimeoutMs = 5000): GeminiClient {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    logs += chunk.toString();
  });
  const logger = createLogger({ stream, debug: true });
  const client = new GeminiClient({ http, cookies, logger, stallTimeoutMs });
  clients.push(client);
  return client;
}

const request = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  prompt: 'Say hello',
  model: FLASH,
  ...extra,
});

async function collect(
  gen: AsyncIterable<GenerateEvent>,
): Promise<{ events: GenerateEvent[]; error: unknown }> {
  const events: GenerateEvent[] = [];
  try {
    for await (const e of gen) {
      events.push(e);
    }
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

function geminiError(error: unknown): GeminiError {
  expect(error).toBeInstanceOf(GeminiError);
  return error as GeminiError;
}

const text = (events: GenerateEvent[]) =>
  events.map((e) => (e.type === 'text' ? e.delta : '')).join('');

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
    await collect(makeClient().generate(request({ model: DEFAULT_MODEL })));
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

  it('never retries once text was yielded: a truncated body is transient', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.end(body([wrb(inner({ text: 'Half of it', status: 1 }))]));
    });
    const { events, error } = await collect(makeClient().generate(request()));
    expect(text(events)).toBe('Half of it');
    expect(geminiError(error).kind).toBe('transient');
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
  });

  it('fails as transient "stalled" when upstream goes silent', async () => {
    let closed = false;
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.on('close', () => {
        closed = true;
      });
      res.writeHead(200);
      res.write(`)]}'\n\n${frame([wrb(inner({ text: 'Hel', status: 1 }))])}`);
    });
    // The session loads first, so a busy machine cannot spend the stall timeout on it.
    const client = makeClient(600);
    await client.init();
    const { events, error } = await collect(client.generate(request()));
    expect(text(events)).toBe('Hel');
    expect(geminiError(error).kind).toBe('transient');
    expect(geminiError(error).message).toMatch(/stalled/);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
    await expect.poll(() => closed).toBe(true);
  });

  it('stops on abort with the abort reason and closes the upstream request', async () => {
    let closed = false;
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.on('close', () => {
        closed = true;
      });
      res.writeHead(200);
      res.write(`)]}'\n\n${frame([wrb(inner({ text: 'Streaming', status: 1 }))])}`);
    });
    const controller = new AbortController();
    const events: GenerateEvent[] = [];
    const error = await (async () => {
      try {
        for await (const e of makeClient().generate(request({ signal: controller.signal }))) {
          events.push(e);
          if (e.type === 'text') {
            controller.abort();
          }
        }
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(text(events)).toBe('Streaming');
    expect(error).toMatchObject({ name: 'AbortError' });
    await expect.poll(() => closed).toBe(true);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { error } = await collect(
      makeClient().generate(request({ signal: AbortSignal.abort() })),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(0);
  });

  it('releases the upstream request when the consumer stops early', async () => {
    let closed = false;
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.on('close', () => {
        closed = true;
      });
      res.writeHead(200);
      res.write(`)]}'\n\n${frame([wrb(inner({ text: 'First', status: 1 }))])}`);
    });
    for await (const e of makeClient().generate(request())) {
      if (e.type === 'text') {
        break;
      }
    }
    await expect.poll(() => closed).toBe(true);
  });

  it('maps a refused connection to transient', async () => {
    const client = makeClient();
    await fake.close();
    const { error } = await collect(client.generate(request()));
    expect(geminiError(error).kind).toBe('transient');
    expect(geminiError(error).message).toMatch(/Network error|ECONNREFUSED/);
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

  it('close() aborts a call in flight', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(200);
      res.write(`)]}'\n\n${frame([wrb(inner({ text: 'Wait', status: 1 }))])}`);
    });
    const client = makeClient();
    const gen = client.generate(request());
    const first = await gen.next();
    expect(first.value).toMatchObject({ type: 'metadata' });
    await client.close();
    await client.close();
    const rest = await collect(gen);
    expect(rest.error).toBeInstanceOf(GeminiError);
    expect((rest.error as GeminiError).message).toMatch(/closed/);
  });
});

describe('GeminiClient.upload', () => {
  it('posts multipart field `file` with Push-ID and returns the file id', async () => {
    fake.on('POST', 'content-push.googleapis.com/upload', (_req, res) => {
      res.end('/contrib_service/ttl_1d/abc123\n');
    });
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const file = await makeClient().upload(data, 'pic "one".png', 'image/png');
    expect(file).toEqual({ fileId: '/contrib_service/ttl_1d/abc123', fileName: 'pic "one".png' });
    const [req] = fake.seen('POST', 'content-push.googleapis.com/upload');
    expect(req?.headers['push-id']).toBe(PUSH_ID);
    expect(req?.headers['x-tenant-id']).toBe('bard-storage');
    expect(req?.headers.origin).toBe('https://gemini.google.com');
    const boundary = /boundary=(.+)$/.exec(req?.headers['content-type'] ?? '')?.[1] ?? '';
    const raw = req?.body ?? Buffer.alloc(0);
    const text = raw.toString('latin1');
    expect(text).toContain(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pic %22one%22.png"\r\nContent-Type: image/png\r\n\r\n`,
    );
    expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    expect(raw.includes(data)).toBe(true);
    // .google.com cookies never go to googleapis.com.
    expect(req?.headers.cookie).toBeUndefined();
  });

  it('classifies a failed upload', async () => {
    fake.on('POST', 'content-push.googleapis.com/upload', (_req, res) => {
      res.writeHead(413).end();
    });
    await expect(
      makeClient().upload(Buffer.from('x'), 'a.txt', 'text/plain'),
    ).rejects.toMatchObject({
      kind: 'bad_request',
      httpStatus: 413,
    });
  });
});

describe('GeminiClient.fetchImage', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

  beforeEach(() => {
    fake.on('GET', 'lh3.googleusercontent.com/gg-dl/IMG_HASH=s2048', (_req, res) => {
      res
        .writeHead(302, {
          location: 'https://work.fife.usercontent.google.com/rd-gg-dl/IMG_HASH=s2048',
        })
        .end();
    });
    fake.on('GET', 'work.fife.usercontent.google.com/rd-gg-dl/IMG_HASH=s2048', (req, res) => {
      if (cookiesOf(req)['__Secure-1PSID'] !== GOOD_PSID) {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    });
  });

  it('adds =s2048, follows the redirect and attaches cookies per host', async () => {
    const img = await makeClient().fetchImage('https://lh3.googleusercontent.com/gg-dl/IMG_HASH');
    expect(img).toEqual({ data: PNG, contentType: 'image/png' });
    const [first] = fake.seen('GET', 'lh3.googleusercontent.com/gg-dl/IMG_HASH=s2048');
    expect(first?.headers.cookie).toBeUndefined();
    const [second] = fake.seen('GET', 'work.fife.usercontent.google.com/rd-gg-dl/IMG_HASH=s2048');
    expect(cookiesOf(second!)['__Secure-1PSID']).toBe(GOOD_PSID);
  });

  it('keeps an existing size suffix', async () => {
    fake.on('GET', 'lh3.googleusercontent.com/gg-dl/OTHER=s1024-rj', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    });
    const img = await makeClient().fetchImage(
      'https://lh3.googleusercontent.com/gg-dl/OTHER=s1024-rj',
    );
    expect(img.data).toEqual(PNG);
  });

  it('gives up after 5 redirects', async () => {
    fake.on('GET', 'lh3.googleusercontent.com/loop', (_req, res) => {
      res.writeHead(302, { location: '/loop' }).end();
    });
    await expect(
      makeClient().fetchImage('https://lh3.googleusercontent.com/loop'),
    ).rejects.toMatchObject({
      kind: 'transient',
    });
    expect(fake.seen('GET', 'lh3.googleusercontent.com/loop')).toHaveLength(6);
  });

  it('refreshes cookies once when the image host refuses them', async () => {
    cookies.cookies = accountCookies(BAD_PSID);
    cookies.afterRefresh = accountCookies(GOOD_PSID);
    const img = await makeClient().fetchImage('https://lh3.googleusercontent.com/gg-dl/IMG_HASH');
    expect(img.data).toEqual(PNG);
    expect(cookies.calls.refresh).toBe(1);
  });
});

describe('GeminiClient.generate: send stages (at most once upstream)', () => {
  /** A gate that records outcomes; `resend` says whether one more send is allowed. */
  function recordingGate(resend = true, refuse = false): SendGate & { outcomes: SendOutcome[] } {
    const outcomes: SendOutcome[] = [];
    const refusal = new UpstreamOutcomeUnknownError('already sent');
    return {
      outcomes,
      open: () => (refuse ? Promise.reject(refusal) : Promise.resolve()),
      canResend: () => resend,
      close: (o) => outcomes.push(o),
    };
  }

  it.each([
    ['HTTP 500 before any body', 'http_status', 'http_error'],
    ['1013 before any candidate', 'rejected_before_generation', 'rejected_before_generation'],
    ['1096 before any candidate', 'after_accept', 'cut_after_accept'],
    ['a body cut after text', 'after_accept', 'cut_after_accept'],
  ] as const)('%s: stage %s, outcome %s', async (what, stage, outcome) => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      if (what.startsWith('HTTP')) {
        res.writeHead(500).end();
      } else if (what.startsWith('1013')) {
        res.end(body([errorEnvelope(1013)], ...trailer(3)));
      } else if (what.startsWith('1096')) {
        res.end(body([errorEnvelope(1096)], ...trailer(3)));
      } else {
        res.end(body([wrb(inner({ text: 'Half of it', status: 1 }))]));
      }
    });
    const gate = recordingGate();
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(geminiError(error).stage).toBe(stage);
    expect(gate.outcomes).toEqual([outcome]);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
  });

  it('a stall after 200 OK, before any candidate, is after_accept', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(200);
      res.write(`)]}'\n\n`);
    });
    const gate = recordingGate();
    // Long enough for the session to load on a busy machine; the answer never comes anyway.
    const client = makeClient(1500);
    await client.init();
    const { error } = await collect(client.generate(request({ gate })));
    expect(geminiError(error)).toMatchObject({ kind: 'transient', stage: 'after_accept' });
    expect(gate.outcomes).toEqual(['cut_after_accept']);
  });

  it('no response headers within the stall timeout is no_response, never proven', async () => {
    fake.on('POST', STREAM_PATH, () => {
      // Never answers.
    });
    const gate = recordingGate();
    // Long enough for the session to load on a busy machine; the answer never comes anyway.
    const client = makeClient(1500);
    await client.init();
    const { error } = await collect(client.generate(request({ gate })));
    expect(geminiError(error).stage).toBe('no_response');
    expect(gate.outcomes).toEqual(['no_response']);
  });

  it('a complete answer is accepted, once', async () => {
    const gate = recordingGate();
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(error).toBeNull();
    expect(gate.outcomes).toEqual(['accepted']);
  });

  it('does not heal a 401 by sending again when the gate has no send left', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(401).end();
    });
    const gate = recordingGate(false);
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(geminiError(error)).toMatchObject({ kind: 'auth', stage: 'http_status' });
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
    expect(gate.outcomes).toEqual(['http_error']);
  });

  it('sends nothing when the gate refuses (the job was sent already)', async () => {
    const gate = recordingGate(true, true);
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(error).toBeInstanceOf(UpstreamOutcomeUnknownError);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(0);
    expect(gate.outcomes).toEqual([]);
  });
});
