import { describe, expect, it, vi } from 'vitest';
import {
  CookieJar,
  generateForm,
  scrapeAt,
  signedIn,
  startTestEmulator,
  useTestEmulator,
} from './support.ts';

const t = useTestEmulator();

const WIZ_KEYS = ['SNlM0e', 'cfb2h', 'FdrFJe', 'TuX5cc', 'qKIAYe'];
const ROTATE = 'https://accounts.google.com/RotateCookies';
const appPage = async (jar: CookieJar) =>
  (await t.fetch('https://gemini.google.com/app', { headers: { cookie: jar.header() } })).text();
const rotate = (jar: CookieJar) =>
  t.fetch(ROTATE, {
    method: 'POST',
    headers: { cookie: jar.header(), 'content-type': 'application/json' },
    body: '[000,"-0000000000000000000"]',
  });

describe('sign-in', () => {
  it('serves the ServiceLogin form with #identifierId, #identifierNext and continue', async () => {
    const form = await t.fetch(
      'https://accounts.google.com/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp%2Fx',
    );
    const html = await form.text();
    expect(html).toContain('id="identifierId"');
    expect(html).toContain('id="identifierNext"');
    expect(html).toContain('value="https://gemini.google.com/app/x"');
  });

  it('signs in through POST /signin: cookies on .google.com, then a signed-in /app', async () => {
    const res = await t.fetch('https://accounts.google.com/signin', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'identifier=Person%40Example.com&continue=https%3A%2F%2Fgemini.google.com%2Fapp%2Fx',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://gemini.google.com/app/x');
    const lines = res.headers.getSetCookie();
    const line = (name: string) => lines.find((l) => l.startsWith(`${name}=`));
    for (const name of [
      '__Secure-1PSIDTS',
      'SID',
      'HSID',
      'SSID',
      'APISID',
      'SAPISID',
      '__Secure-3PSID',
    ]) {
      expect(line(name), name).toMatch(/Domain=\.google\.com; Path=\/;.*Secure/);
    }
    expect(line('__Secure-1PSID')).toMatch(/^__Secure-1PSID=g\.a000.*HttpOnly/);
    expect(line('__Secure-1PSIDTS')).toMatch(/^__Secure-1PSIDTS=sidts-/);
    const record = t.emulator.records().find((r) => r.kind === 'signin');
    expect(record).toMatchObject({ email: 'person@example.com', status: 302 });

    const jar = new CookieJar();
    jar.absorb(res);
    const page = await appPage(jar);
    for (const key of WIZ_KEYS) {
      expect(page).toMatch(new RegExp(`"${key}":\\s*"[^"]+"`));
    }
    expect(page).toContain('https://accounts.google.com/RotateCookiesPage');
  });

  it('refuses a bad email and never redirects off Google', async () => {
    const bad = await t.fetch('https://accounts.google.com/signin', {
      method: 'POST',
      body: 'identifier=nobody',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(bad.status).toBe(400);
    const evil = await t.fetch('https://accounts.google.com/signin', {
      method: 'POST',
      body: 'identifier=a%40b.c&continue=https%3A%2F%2Fevil.example%2F',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(evil.headers.get('location')).toBe('https://gemini.google.com/app');
  });

  it('createAccount returns the cookies a browser would hold', () => {
    const { email, cookies } = t.emulator.createAccount('Api@Example.com');
    expect(email).toBe('api@example.com');
    const psid = cookies.find((c) => c.name === '__Secure-1PSID');
    expect(psid).toMatchObject({ domain: '.google.com', path: '/', secure: true, httpOnly: true });
    expect(psid?.expires).toBeGreaterThan(Date.now() / 1000);
    // The account keeps its PSID across sessions; each session has its own PSIDTS.
    const again = t.emulator.createAccount('api@example.com').cookies;
    expect(again.find((c) => c.name === '__Secure-1PSID')?.value).toBe(psid?.value);
    const ts = (list: typeof cookies) => list.find((c) => c.name === '__Secure-1PSIDTS')?.value;
    expect(ts(again)).not.toBe(ts(cookies));
  });

  it('shows a guest page without SNlM0e/TuX5cc but with a Sign in link', async () => {
    const page = await appPage(new CookieJar());
    expect(page).not.toContain('SNlM0e');
    expect(page).not.toContain('TuX5cc');
    expect(page).toMatch(/"cfb2h":\s*"boq_/);
    const fdr = /"FdrFJe":\s*"(-?\d+)"/.exec(page)?.[1] ?? '';
    // A signed int64, as f.sid is.
    expect(BigInt(fdr) >= -(2n ** 63n) && BigInt(fdr) < 2n ** 63n).toBe(true);
    expect(page).toMatch(
      /<a id="sign-in" href="https:\/\/accounts\.google\.com\/ServiceLogin\?continue=[^"]+">Sign in<\/a>/,
    );
  });
});

describe('sign-out', () => {
  it('kills the session server-side at once and clears cookies', async () => {
    const s = await signedIn(t, 'logout@example.com');
    const old = new CookieJar([...s.jar.values].map(([name, value]) => ({ name, value })));
    const res = await t.fetch('https://accounts.google.com/Logout', {
      headers: { cookie: s.jar.header() },
    });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().some((l) => /^__Secure-1PSID=;.*Max-Age=0/.test(l))).toBe(
      true,
    );
    // The browser would drop them; a copy kept elsewhere (the worker's cache) is now dead too.
    expect(scrapeAt(await appPage(old))).toBeNull();
    expect((await s.generate(generateForm(s.at, 'x'))).status).toBe(401);
    expect((await rotate(old)).status).toBe(401);
    expect(t.emulator.records().at(-1)).toMatchObject({ kind: 'rotate', status: 401 });
    // Signing in again works, with the same PSID and a new session.
    const again = await signedIn(t, 'logout@example.com');
    expect(again.jar.values.get('__Secure-1PSID')).toBe(old.values.get('__Secure-1PSID'));
  });
});

describe('RotateCookies', () => {
  it('mints a new PSIDTS, then answers 429 within the minimum interval', async () => {
    const s = await signedIn(t, 'rotate@example.com');
    const before = s.jar.values.get('__Secure-1PSIDTS');
    const res = await rotate(s.jar);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('identity.hfcr');
    s.jar.absorb(res);
    expect(s.jar.values.get('__Secure-1PSIDTS')).not.toBe(before);
    expect(s.jar.values.has('__Secure-1PSIDCC')).toBe(true);
    expect(scrapeAt(await appPage(s.jar))).toBe(s.at);
    expect((await rotate(s.jar)).status).toBe(429);
  });

  it('answers 401 for an unknown PSID and 403 without a PSIDTS', async () => {
    expect(
      (await rotate(new CookieJar([{ name: '__Secure-1PSID', value: 'g.a000nope' }]))).status,
    ).toBe(401);
    expect((await rotate(new CookieJar())).status).toBe(401);
    const s = await signedIn(t, 'nots@example.com');
    s.jar.values.delete('__Secure-1PSIDTS');
    expect((await rotate(s.jar)).status).toBe(403);
  });

  it('expires PSIDTS after its lifetime unless rotated, and older values stay valid meanwhile', async () => {
    const own = await startTestEmulator({ psidtsTtlMs: 60_000, rotateMinIntervalMs: 0 });
    // Only Date is faked: the emulator's clock jumps while sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const jar = new CookieJar(own.emulator.createAccount('ttl@example.com').cookies);
      const page = async (j: CookieJar) =>
        (
          await own.fetch('https://gemini.google.com/app', { headers: { cookie: j.header() } })
        ).text();
      const old = new CookieJar([...jar.values].map(([name, value]) => ({ name, value })));
      vi.setSystemTime(Date.now() + 40_000);
      const res = await own.fetch(ROTATE, {
        method: 'POST',
        headers: { cookie: jar.header() },
        body: '[000,"-0000000000000000000"]',
      });
      expect(res.status).toBe(200);
      jar.absorb(res);
      expect(scrapeAt(await page(old))).not.toBeNull();
      vi.setSystemTime(Date.now() + 30_000);
      expect(scrapeAt(await page(old))).toBeNull();
      expect(scrapeAt(await page(jar))).not.toBeNull();
      own.emulator.setOptions({ psidtsTtlMs: 1000 });
      expect(scrapeAt(await page(jar))).toBeNull();
      const dead = await own.fetch(ROTATE, {
        method: 'POST',
        headers: { cookie: jar.header() },
        body: '[]',
      });
      expect(dead.status).toBe(401);
    } finally {
      vi.useRealTimers();
      await own.close();
    }
  });

  it('serves a rotation page that rotates at once only when PSIDTS is past half its life', async () => {
    const own = await startTestEmulator({ psidtsTtlMs: 60_000, rotateIntervalMs: 1234 });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const jar = new CookieJar(own.emulator.createAccount('page@example.com').cookies);
      const get = async () =>
        (
          await own.fetch('https://accounts.google.com/RotateCookiesPage?og_pid=658', {
            headers: { cookie: jar.header() },
          })
        ).text();
      const fresh = await get();
      expect(fresh).toContain('const intervalMs = 1234;');
      expect(fresh).toContain("fetch('/RotateCookies'");
      expect(fresh).toContain('if (false)');
      vi.setSystemTime(Date.now() + 31_000);
      expect(await get()).toContain('if (true)');
    } finally {
      vi.useRealTimers();
      await own.close();
    }
  });
});

describe('other account endpoints', () => {
  it('ListAccounts lists the signed-in account only', async () => {
    const s = await signedIn(t, 'list@example.com');
    const signedInList = await t.fetch('https://accounts.google.com/ListAccounts?gpsia=1', {
      method: 'POST',
      headers: { cookie: s.jar.header() },
    });
    expect(JSON.stringify(await signedInList.json())).toContain('list@example.com');
    const anon = await t.fetch('https://accounts.google.com/ListAccounts', { method: 'POST' });
    expect(await anon.json()).toEqual(['gaia.l.a.r', []]);
    expect(t.emulator.records().at(-1)?.kind).toBe('list_accounts');
  });

  it('the www.google.com preflight sets NID', async () => {
    const res = await t.fetch('https://www.google.com/');
    expect(res.status).toBe(200);
    expect(
      res.headers.getSetCookie().some((l) => /^NID=.*Domain=\.google\.com.*Secure/.test(l)),
    ).toBe(true);
    expect(t.emulator.records().at(-1)).toMatchObject({
      kind: 'preflight',
      host: 'www.google.com',
      status: 200,
    });
  });
});
