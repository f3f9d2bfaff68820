import { describe, expect, it } from 'vitest';
import {
  cookieHeader,
  domainMatches,
  mergeCookieLists,
  parseSetCookies,
  pathMatches,
} from '../../../src/gemini/cookies.ts';
import type { Cookie } from '../../../src/gemini/types.ts';

const NOW_S = 1_800_000_000;
const c = (name: string, extra: Partial<Cookie> = {}): Cookie => ({
  name,
  value: `v_${name}`,
  domain: '.google.com',
  path: '/',
  ...extra,
});

describe('cookieHeader', () => {
  const jar = [
    c('PSID', { secure: true }),
    c('HOSTONLY', { domain: 'gemini.google.com' }),
    c('OTHERHOST', { domain: 'accounts.google.com' }),
    c('DEEP', { path: '/app' }),
    c('EXPIRED', { expires: NOW_S - 10 }),
    c('SESSION', { expires: -1 }),
    c('APIS', { domain: '.googleapis.com' }),
  ];

  it('sends domain, host-only and path-matching cookies, longest path first', () => {
    expect(cookieHeader(jar, new URL('https://gemini.google.com/app/x'), NOW_S)).toBe(
      'DEEP=v_DEEP; PSID=v_PSID; HOSTONLY=v_HOSTONLY; SESSION=v_SESSION',
    );
  });

  it('keeps cookies on their own domains', () => {
    expect(cookieHeader(jar, new URL('https://content-push.googleapis.com/upload'), NOW_S)).toBe(
      'APIS=v_APIS',
    );
    expect(
      cookieHeader(jar, new URL('https://lh3.googleusercontent.com/gg-dl/x'), NOW_S),
    ).toBeNull();
    expect(cookieHeader(jar, new URL('https://evilgoogle.com/'), NOW_S)).toBeNull();
  });

  it('never sends secure cookies over http', () => {
    expect(cookieHeader(jar, new URL('http://google.com/'), NOW_S)).toBe('SESSION=v_SESSION');
  });

  it('respects path boundaries', () => {
    expect(pathMatches('/app', '/app')).toBe(true);
    expect(pathMatches('/app', '/app/x')).toBe(true);
    expect(pathMatches('/app', '/apple')).toBe(false);
    expect(pathMatches('/app/', '/app/x')).toBe(true);
    expect(domainMatches('.google.com', 'google.com')).toBe(true);
    expect(domainMatches('google.com', 'www.google.com')).toBe(false);
  });
});

describe('parseSetCookies', () => {
  const url = new URL('https://gemini.google.com/_/BardChatUi/data/x');

  it('parses attributes, with the request host as the default domain', () => {
    const [a, b] = parseSetCookies(
      [
        '__Secure-1PSIDCC=AKEyXz; expires=Fri, 01-Jan-2100 00:00:00 GMT; path=/; domain=.google.com; Secure; HttpOnly; priority=high; SameSite=none',
        'HOSTCOOKIE="quoted"',
      ],
      url,
      NOW_S,
    );
    expect(a).toEqual({
      name: '__Secure-1PSIDCC',
      value: 'AKEyXz',
      domain: '.google.com',
      path: '/',
      expires: Math.floor(Date.UTC(2100, 0, 1) / 1000),
      secure: true,
      httpOnly: true,
      sameSite: 'None',
    });
    expect(b).toEqual({
      name: 'HOSTCOOKIE',
      value: 'quoted',
      domain: 'gemini.google.com',
      path: '/_/BardChatUi/data',
    });
  });

  it('lets Max-Age win over Expires in either order, and Max-Age=0 expire now', () => {
    const [a, b] = parseSetCookies(
      [
        'A=1; Max-Age=60; Expires=Fri, 01-Jan-2100 00:00:00 GMT',
        'B=2; Expires=Fri, 01-Jan-2100 00:00:00 GMT; Max-Age=0',
      ],
      url,
      NOW_S,
    );
    expect(a?.expires).toBe(NOW_S + 60);
    expect(b?.expires).toBe(0);
    expect(cookieHeader([b as Cookie], url, NOW_S)).toBeNull();
  });

  it('drops cookies for foreign domains, public suffixes, and bad names', () => {
    expect(
      parseSetCookies(['X=1; Domain=example.com', 'Y=2; Domain=com', '=3', 'noequals'], url, NOW_S),
    ).toEqual([]);
  });
});

describe('mergeCookieLists', () => {
  it('replaces by name, domain and path, keeping others', () => {
    const merged = mergeCookieLists(
      [c('A'), c('B')],
      [c('A', { value: 'new' }), c('A', { path: '/x' })],
    );
    expect(merged.map((m) => `${m.name}${m.path}=${m.value}`)).toEqual([
      'A/=new',
      'B/=v_B',
      'A/x=v_A',
    ]);
  });
});
