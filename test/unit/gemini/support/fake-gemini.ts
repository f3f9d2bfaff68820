/**
 * Gemini's side of the client tests, on top of FakeGoogle: www.google.com, /app (signed in or
 * guest depending on the PSID cookie), StreamGenerate answering with framed snapshots, and a
 * cookie source fake that counts its calls.
 */
import type { ServerResponse } from 'node:http';
import type { Cookie, CookieSource } from '../../../../src/gemini/types.ts';
import { cookiesOf, type FakeGoogle, type RecordedRequest } from './fake-google.ts';
import { body, snapshots, trailer } from './wire-fixtures.ts';

export const GOOD_PSID = 'g.a000_GOOD_psid_value_123456';
export const BAD_PSID = 'g.a000_DEAD_psid_value_654321';
export const AT_TOKEN = 'AFQ_at_token_secret:1700000000000';
export const PUSH_ID = 'feeds/test-push-id';
export const BL = 'boq_assistant-bard-web-server_20260929.03_p0';
export const FSID = '-6543210987654321';
export const STREAM_PATH =
  'gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';

export const SIGNED_IN_PAGE = `<html><script>window.WIZ_global_data = {"SNlM0e":"${AT_TOKEN}","cfb2h":"${BL}","FdrFJe":"${FSID}","TuX5cc":"en","qKIAYe":"${PUSH_ID}"};</script></html>`;
export const GUEST_PAGE = `<html><script>window.WIZ_global_data = {"cfb2h":"${BL}","FdrFJe":"${FSID}"};</script></html>`;

/** A cookie source that counts calls; `refresh` may swap in `afterRefresh`. */
export class FakeCookieSource implements CookieSource {
  calls = { get: 0, invalidate: 0, refresh: 0, absorb: 0 };
  absorbed: Cookie[] = [];
  afterRefresh: Cookie[] | null = null;

  constructor(public cookies: Cookie[]) {}

  async getCookies(): Promise<Cookie[]> {
    this.calls.get += 1;
    return this.cookies;
  }

  invalidate(): void {
    this.calls.invalidate += 1;
  }

  async refresh(): Promise<void> {
    this.calls.refresh += 1;
    if (this.afterRefresh) {
      this.cookies = this.afterRefresh;
    }
  }

  async absorb(cookies: Cookie[]): Promise<void> {
    this.calls.absorb += 1;
    this.absorbed.push(...cookies);
  }
}

/** The account's browser cookies with the given PSID. */
export function accountCookies(psid: string): Cookie[] {
  return [
    {
      name: '__Secure-1PSID',
      value: psid,
      domain: '.google.com',
      path: '/',
      secure: true,
      httpOnly: true,
    },
    {
      name: '__Secure-1PSIDTS',
      value: `sidts-${psid}`,
      domain: '.google.com',
      path: '/',
      secure: true,
    },
  ];
}

/** The decoded StreamGenerate form of a recorded request. */
export function formOf(req: RecordedRequest): { at: string | null; inner: unknown[] } {
  const form = new URLSearchParams(req.body.toString());
  const outer = JSON.parse(form.get('f.req') ?? '[null,"[]"]') as [null, string];
  return { at: form.get('at'), inner: JSON.parse(outer[1]) as unknown[] };
}

/** Writes a complete answer as framed cumulative snapshots. */
export function answer(res: ServerResponse, text: string, steps = 3): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body(...snapshots(text, steps), ...trailer(steps + 2)));
}

/** Installs www.google.com, /app and a StreamGenerate that answers `reply` (checking `at`). */
export function installGemini(fake: FakeGoogle, reply = 'Hello! How can I help?'): void {
  fake.on('GET', 'www.google.com/', (_req, res) => {
    res.setHeader(
      'set-cookie',
      'NID=nid_cookie_value_42; Domain=.google.com; Path=/; Secure; HttpOnly',
    );
    res.end('<html>home</html>');
  });
  fake.on('GET', 'gemini.google.com/app', (req, res) => {
    if (cookiesOf(req)['__Secure-1PSID'] !== GOOD_PSID) {
      res.end(GUEST_PAGE);
      return;
    }
    res.setHeader(
      'set-cookie',
      '__Secure-1PSIDCC=psidcc_rotated_value; Domain=.google.com; Path=/; Secure',
    );
    res.end(SIGNED_IN_PAGE);
  });
  fake.on('POST', STREAM_PATH, (req, res) => {
    if (formOf(req).at !== AT_TOKEN) {
      res.writeHead(400).end();
      return;
    }
    answer(res, reply);
  });
}
