/**
 * The cookies Google sets on .google.com, as Set-Cookie lines and as the Cookie objects a
 * browser would hold; plus parsing of a request's Cookie header.
 */
import { randomBytes } from 'node:crypto';
import type { Cookie } from '../gemini/index.ts';
import { registerCookie } from '../logging.ts';
import type { Account, Session } from './accounts.ts';

/** One cookie to set. */
export interface CookieSpec {
  name: string;
  value: string;
  httpOnly: boolean;
  sameSite: 'Lax' | 'None';
}

const DOMAIN = '.google.com';
const LIFETIME_S = 400 * 24 * 3600;

/** The cookies a sign-in sets. */
export function signInCookies(account: Account, session: Session): CookieSpec[] {
  return [
    spec('SID', account.sid, false),
    spec('__Secure-1PSID', account.psid, true),
    spec('__Secure-3PSID', account.psid3, true, 'None'),
    spec('HSID', account.hsid, true),
    spec('SSID', account.ssid, true),
    spec('APISID', account.apisid, false),
    spec('SAPISID', account.sapisid, false),
    spec('__Secure-1PAPISID', account.sapisid, false),
    spec('__Secure-3PAPISID', account.sapisid, false, 'None'),
    ...psidtsCookies(session.currentPsidts),
  ];
}

/** The cookies a rotation sets: the new PSIDTS pair and fresh PSIDCC values. */
export function rotationCookies(psidts: string): CookieSpec[] {
  return [...psidtsCookies(psidts), ...psidccCookies(), spec('SIDCC', opaque('AKEyXzW'), false)];
}

/** Fresh PSIDCC values, which Google sets on every signed-in StreamGenerate and batchexecute. */
export function psidccCookies(): CookieSpec[] {
  return [
    spec('__Secure-1PSIDCC', opaque('AKEyXzW'), true),
    spec('__Secure-3PSIDCC', opaque('AKEyXzW'), true, 'None'),
  ];
}

/** NID and AEC, set by the www.google.com preflight. */
export function preflightCookies(): CookieSpec[] {
  return [spec('NID', opaque('525='), true, 'None'), spec('AEC', opaque('AVh_V2'), true)];
}

/** Names cleared by a sign-out. */
export const SIGNED_IN_COOKIE_NAMES: readonly string[] = [
  'SID',
  '__Secure-1PSID',
  '__Secure-3PSID',
  'HSID',
  'SSID',
  'APISID',
  'SAPISID',
  '__Secure-1PAPISID',
  '__Secure-3PAPISID',
  '__Secure-1PSIDTS',
  '__Secure-3PSIDTS',
  '__Secure-1PSIDCC',
  '__Secure-3PSIDCC',
  'SIDCC',
];

/** A Set-Cookie line on .google.com. */
export function toSetCookie(c: CookieSpec): string {
  const flags = `${c.httpOnly ? '; HttpOnly' : ''}; SameSite=${c.sameSite}`;
  return `${c.name}=${c.value}; Domain=${DOMAIN}; Path=/; Max-Age=${LIFETIME_S}; Secure${flags}`;
}

/** A Set-Cookie line that deletes `name` on .google.com. */
export function toClearCookie(name: string): string {
  return `${name}=; Domain=${DOMAIN}; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure`;
}

/** The cookie as a browser would hold it. */
export function toCookie(c: CookieSpec, nowMs: number): Cookie {
  return {
    name: c.name,
    value: c.value,
    domain: DOMAIN,
    path: '/',
    expires: Math.floor(nowMs / 1000) + LIFETIME_S,
    httpOnly: c.httpOnly,
    secure: true,
    sameSite: c.sameSite,
  };
}

/** Parses a Cookie header; the first value of a repeated name wins, as in Google's servers. */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      continue;
    }
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) {
      out.set(name, part.slice(eq + 1).trim());
    }
  }
  return out;
}

function psidtsCookies(psidts: string): CookieSpec[] {
  return [spec('__Secure-1PSIDTS', psidts, true), spec('__Secure-3PSIDTS', psidts, true, 'None')];
}

function spec(name: string, value: string, httpOnly: boolean, sameSite: 'Lax' | 'None' = 'Lax') {
  // Kept per cookie name, so rotating values replace each other instead of piling up.
  registerCookie({ name, value, domain: DOMAIN, path: '/' });
  return { name, value, httpOnly, sameSite };
}

function opaque(prefix: string): string {
  return `${prefix}${randomBytes(30).toString('base64url')}`;
}
