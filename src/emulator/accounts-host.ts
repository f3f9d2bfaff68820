/**
 * accounts.google.com: ServiceLogin and /signin, /Logout, RotateCookies and its page,
 * ListAccounts. Sessions die at once on /Logout, as Google's do.
 */
import { normalizeEmail } from './accounts.ts';
import { rotateCookiesPage, serviceLoginPage, signedOutPage } from './accounts-pages.ts';
import { readBody, redirect, send, sendHtml, sendJson, type RequestContext } from './http-io.ts';
import {
  rotationCookies,
  signInCookies,
  SIGNED_IN_COOKIE_NAMES,
  toClearCookie,
  toSetCookie,
} from './session-cookies.ts';

const DEFAULT_CONTINUE = 'https://gemini.google.com/app';
const FORM_LIMIT_BYTES = 64 * 1024;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Handles requests for accounts.google.com. */
export async function handleAccounts(ctx: RequestContext): Promise<void> {
  const path = ctx.url.pathname;
  const method = ctx.req.method ?? 'GET';
  if ((path === '/ServiceLogin' || path === '/signin') && method === 'GET') {
    sendHtml(ctx, 200, serviceLoginPage(safeContinue(ctx.url.searchParams.get('continue')), null));
  } else if (path === '/signin' && method === 'POST') {
    await signIn(ctx);
  } else if (path === '/Logout') {
    signOut(ctx);
  } else if (path === '/RotateCookies' && method === 'POST') {
    await readBody(ctx.req, FORM_LIMIT_BYTES);
    rotate(ctx);
  } else if (path === '/RotateCookiesPage') {
    const issuedAt = ctx.identity.signedIn ? ctx.identity.psidtsIssuedAtMs : null;
    const { psidtsTtlMs, rotateIntervalMs } = ctx.state.tunables;
    const old = issuedAt !== null && ctx.state.now() - issuedAt > psidtsTtlMs / 2;
    sendHtml(ctx, 200, rotateCookiesPage(rotateIntervalMs, old));
  } else if (path === '/ListAccounts') {
    await readBody(ctx.req, FORM_LIMIT_BYTES);
    listAccounts(ctx);
  } else {
    send(ctx, 404, 'Not Found');
  }
}

async function signIn(ctx: RequestContext): Promise<void> {
  const form = new URLSearchParams((await readBody(ctx.req, FORM_LIMIT_BYTES)).toString('utf8'));
  const email = (form.get('identifier') ?? form.get('Email') ?? '').trim();
  const continueUrl = safeContinue(form.get('continue'));
  if (!EMAIL.test(email)) {
    sendHtml(ctx, 400, serviceLoginPage(continueUrl, 'Enter a valid email'));
    return;
  }
  const session = ctx.state.accounts.createSession(email);
  ctx.record.email = normalizeEmail(email);
  ctx.state.logger?.info('emulator: signed in', { email: ctx.record.email });
  redirect(ctx, continueUrl, {
    'set-cookie': signInCookies(session.account, session).map(toSetCookie),
  });
}

function signOut(ctx: RequestContext): void {
  const { account, session } = ctx.identity;
  if (session) {
    ctx.state.accounts.signOut(session);
  } else if (account) {
    ctx.state.accounts.signOutAll(account);
  }
  const headers = { 'set-cookie': SIGNED_IN_COOKIE_NAMES.map(toClearCookie) };
  const next = ctx.url.searchParams.get('continue');
  if (next) {
    redirect(ctx, safeContinue(next), headers);
  } else {
    sendHtml(ctx, 200, signedOutPage(), headers);
  }
}

function rotate(ctx: RequestContext): void {
  const { account, session, signedIn } = ctx.identity;
  if (account && !ctx.cookies.has('__Secure-1PSIDTS')) {
    // Google does not mint a PSIDTS for a session that never had one.
    send(ctx, 403, 'Forbidden');
    return;
  }
  if (!signedIn || !session) {
    send(ctx, 401, 'Unauthorized');
    return;
  }
  const { rotateMinIntervalMs, rotateIntervalMs } = ctx.state.tunables;
  const last = session.lastRotateAtMs;
  if (last !== null && ctx.state.now() - last < rotateMinIntervalMs) {
    send(ctx, 429, 'Too Many Requests');
    return;
  }
  const psidts = ctx.state.accounts.rotate(session);
  const body = `)]}'\n\n${JSON.stringify([
    ['identity.hfcr', Math.round(rotateIntervalMs / 1000)],
    ['di', 12],
  ])}`;
  send(ctx, 200, body, {
    'content-type': 'application/json; charset=utf-8',
    'set-cookie': rotationCookies(psidts).map(toSetCookie),
  });
}

function listAccounts(ctx: RequestContext): void {
  const account = ctx.identity.signedIn ? ctx.identity.account : null;
  const entries = account
    ? [
        [
          'gaia.l.a',
          1,
          account.email.split('@')[0] ?? account.email,
          account.email,
          'https://lh3.googleusercontent.com/a/default-user=s48-c',
          1,
          1,
          0,
          null,
          1,
          account.gaiaId,
        ],
      ]
    : [];
  sendJson(ctx, 200, ['gaia.l.a.r', entries]);
}

/** Only Google https URLs are followed after sign-in or sign-out (no open redirect). */
function safeContinue(value: string | null): string {
  if (!value) {
    return DEFAULT_CONTINUE;
  }
  try {
    const url = new URL(value);
    const google = url.hostname === 'google.com' || url.hostname.endsWith('.google.com');
    return url.protocol === 'https:' && google ? url.href : DEFAULT_CONTINUE;
  } catch {
    return DEFAULT_CONTINUE;
  }
}
