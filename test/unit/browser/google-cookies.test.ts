import { describe, expect, it } from 'vitest';
import {
  cookieFingerprint,
  fromPlaywrightCookie,
  hasSessionCookie,
  isGoogleCookie,
  toPlaywrightCookie,
} from '../../../src/browser/google-cookies.ts';
import { decideLoginState } from '../../../src/browser/login-state.ts';
import type { Cookie } from '../../../src/gemini/index.ts';
import { redactText } from '../../../src/logging.ts';

const c = (name: string, value: string, domain = '.google.com'): Cookie => ({
  name,
  value,
  domain,
  path: '/',
});

describe('isGoogleCookie', () => {
  it.each([
    ['.google.com', true],
    ['gemini.google.com', true],
    ['accounts.google.com', true],
    ['.googleusercontent.com', true],
    ['content-push.googleapis.com', true],
    ['notgoogle.com', false],
    ['google.com.evil.example', false],
    ['example.com', false],
  ])('%s -> %s', (domain, expected) => {
    expect(isGoogleCookie({ domain })).toBe(expected);
  });
});

describe('hasSessionCookie', () => {
  it('needs a non-empty __Secure-1PSID', () => {
    expect(hasSessionCookie([c('__Secure-1PSID', 'g.a000xyz')])).toBe(true);
    expect(hasSessionCookie([c('__Secure-1PSID', '')])).toBe(false);
    expect(hasSessionCookie([c('__Secure-3PSID', 'g.a000xyz'), c('SID', 'sid')])).toBe(false);
    expect(hasSessionCookie([])).toBe(false);
  });
});

describe('Playwright cookie conversion', () => {
  it('drops a session expiry (-1) and registers the value as a secret', () => {
    const ours = fromPlaywrightCookie({
      name: '__Secure-1PSIDTS',
      value: 'sidts-converted-secret',
      domain: '.google.com',
      path: '/',
      expires: -1,
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    });
    expect(ours).toEqual({
      name: '__Secure-1PSIDTS',
      value: 'sidts-converted-secret',
      domain: '.google.com',
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    });
    expect(redactText('x sidts-converted-secret y')).toBe('x [REDACTED] y');
  });

  it('keeps a real expiry both ways and defaults secure and path', () => {
    const back = toPlaywrightCookie({
      name: 'SIDCC',
      value: 'v',
      domain: '.google.com',
      path: '',
      expires: 2_000_000_000,
    });
    expect(back).toEqual({
      name: 'SIDCC',
      value: 'v',
      domain: '.google.com',
      path: '/',
      secure: true,
      httpOnly: false,
      expires: 2_000_000_000,
    });
    expect(toPlaywrightCookie({ ...c('A', 'b'), expires: -1 })).not.toHaveProperty('expires');
  });
});

describe('cookieFingerprint', () => {
  it('ignores order but not values or scopes', () => {
    const a = [c('A', '1'), c('B', '2')];
    expect(cookieFingerprint(a)).toBe(cookieFingerprint([c('B', '2'), c('A', '1')]));
    expect(cookieFingerprint(a)).not.toBe(cookieFingerprint([c('A', '1'), c('B', '3')]));
    expect(cookieFingerprint(a)).not.toBe(
      cookieFingerprint([c('A', '1'), c('B', '2', 'gemini.google.com')]),
    );
  });
});

describe('decideLoginState', () => {
  const signedIn = [c('__Secure-1PSID', 'g.a000psid')];
  it.each([
    ['signed_in', signedIn, 'logged_in'],
    ['guest', signedIn, 'login_required'],
    ['other', signedIn, null],
    ['signed_in', [], 'login_required'],
    ['guest', [], 'login_required'],
    ['other', [], 'login_required'],
  ] as const)('tab %s with %j -> %s', (verdict, jar, expected) => {
    expect(decideLoginState(verdict, jar)).toBe(expected);
  });
});
