/**
 * Driving the operator console as a browser would: the keys it knows, signing in and out with a
 * form, and posting node actions with the session cookie, CSRF token and Origin.
 */
import type { TestGateway } from './fake-servers.ts';

/** An admin key: it may sign in. */
export const ADMIN = 'sk-console-admin-secret';
/** A user key: it may chat, never sign in. */
export const USER = 'sk-console-user-secret';
/** The gateway's key options with both. */
export const keys = { apiKeys: [USER], adminApiKeys: [ADMIN] };

/** A signed-in console: the cookie to send, and the CSRF token its page carried. */
export interface ConsoleSession {
  readonly cookie: string;
  readonly csrf: string;
}

const FORM = 'application/x-www-form-urlencoded';

/** Posts the sign-in form with `key`, from `origin`. */
export async function signIn(g: TestGateway, key: string, origin = g.url) {
  return fetch(`${g.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, origin },
    body: new URLSearchParams({ key }).toString(),
  });
}

/** Signs the admin in and reads the CSRF token off the console page. */
export async function session(g: TestGateway): Promise<ConsoleSession> {
  const res = await signIn(g, ADMIN);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const html = await (await fetch(`${g.url}/`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? '';
  return { cookie, csrf };
}

/** Posts a node action; `headers` override the session's own. */
export const act = (g: TestGateway, s: ConsoleSession, body: object, headers = {}) =>
  fetch(`${g.url}/console/nodes/action`, {
    method: 'POST',
    headers: {
      cookie: s.cookie,
      'content-type': 'application/json',
      origin: g.url,
      'x-csrf-token': s.csrf,
      ...headers,
    },
    body: JSON.stringify(body),
  });

/** Posts the sign-out form with the session's cookie and CSRF token. */
export const signOut = (g: TestGateway, s: ConsoleSession) =>
  fetch(`${g.url}/console/sign-out`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: s.cookie, 'content-type': FORM, origin: g.url },
    body: new URLSearchParams({ csrf: s.csrf }).toString(),
  });
