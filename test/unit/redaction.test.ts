import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretMatcher } from '../../src/redaction/matcher.ts';
import {
  redact,
  redactText,
  redactionStats,
  registerCookie,
  registerSecret,
  registerToken,
  registerUrlPassword,
} from '../../src/redaction/index.ts';

const opaque = (prefix = ''): string => `${prefix}${randomBytes(18).toString('base64url')}`;
const jarCookie = (name: string, value: string) => ({ name, value, domain: '.google.com', path: '/' });

describe('SecretMatcher', () => {
  it('finds every value, overlapping or nested, in one pass', () => {
    const m = new SecretMatcher(['abcdef', 'cdefgh', 'xyz123', 'he']);
    const text = '--abcdefgh--xyz123--shell';
    const spans = m.find(text);
    expect(spans).toEqual([
      [2, 10],
      [12, 18],
      [21, 23],
    ]);
  });

  it('finds a value that starts inside a failed longer prefix', () => {
    const m = new SecretMatcher(['aaab', 'ab12']);
    expect(m.find('aaaab12')).toEqual([[1, 7]]);
  });

  it('has as many states as the values have distinct prefixes, and matches nothing when empty', () => {
    expect(new SecretMatcher(['abc', 'abd']).size).toBe(1 + 4);
    expect(new SecretMatcher([]).find('anything at all')).toEqual([]);
  });
});

describe('redaction by shape and name', () => {
  it('replaces Google cookie shapes, cookie pairs, bearer keys and URL passwords without registering them', () => {
    const psid = opaque('g.a000');
    const psidts = opaque('sidts-CjEB');
    const psidcc = opaque('AKEyXzW');
    const at = `${opaque('AKEyX')}:1754000000000`;
    const out = redactText(
      `psid ${psid}, ts=${psidts}; cc "${psidcc}" at=${at} NID=511=${opaque()}; ` +
        `Authorization: Bearer ${opaque('sk-')} postgres://kasm:${opaque('pw')}@db:5432/kasm`,
    );
    for (const secret of [psid, psidts, psidcc, at]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('NID=[REDACTED]');
    expect(out).toContain('Bearer [REDACTED]');
    expect(out).toContain('postgres://kasm:[REDACTED]@db:5432/kasm');
    expect(out).not.toMatch(/sk-|pw[A-Za-z0-9]/);
  });

  it('blanks values under secret key names in any spelling', () => {
    expect(
      redact({
        Cookie: 'a=b',
        'set-cookie': ['x=y'],
        adminApiKeys: ['k'],
        DB_PASSWORD: 'p',
        '__Secure-1PSIDCC': 'v',
        model: 'gemini-2.5-flash',
      }),
    ).toEqual({
      Cookie: '[REDACTED]',
      'set-cookie': '[REDACTED]',
      adminApiKeys: '[REDACTED]',
      DB_PASSWORD: '[REDACTED]',
      '__Secure-1PSIDCC': '[REDACTED]',
      model: 'gemini-2.5-flash',
    });
  });

  it('does not print what is too deep to check', () => {
    let deep: unknown = { secretish: opaque() };
    for (let i = 0; i < 12; i += 1) {
      deep = { deep };
    }
    expect(JSON.stringify(redact(deep))).toContain('[too deep]');
  });
});

describe('redaction under cookie churn', () => {
  it('after 5 000 rotated cookie values redacts the live jar and every key, and holds only the live jar', () => {
    const apiKey = opaque('user-key-');
    const adminKey = opaque('admin-key-');
    registerSecret(apiKey);
    registerSecret(adminKey);
    registerUrlPassword(`postgres://kasm:${encodeURIComponent('db pass/word')}@db/kasm`);
    const before = redactionStats();
    // Unshaped values, so every one goes through the value set (shaped ones never enter it).
    const names = ['NID', 'AEC', '__Secure-1PSIDCC', '__Secure-3PSIDCC', 'SIDCC'];
    const history: string[] = [];
    for (let i = 0; i < 1000; i += 1) {
      for (const name of names) {
        const value = opaque(`v${i}-`);
        history.push(value);
        registerCookie(jarCookie(name, value));
      }
      registerToken('at', opaque(`tok${i}-`));
      if (i % 100 === 0) {
        expect(redactText(`line ${i}`)).toBe(`line ${i}`);
      }
    }
    expect(history).toHaveLength(5000);
    const live = history.slice(-names.length);
    const previous = history.slice(-2 * names.length, -names.length);
    const dead = history.slice(0, 100);
    const line = `jar ${live.join(' ')} was ${previous.join(';')} keys ${apiKey},${adminKey} pw "db pass/word"`;
    const out = redactText(line);
    for (const value of [...live, ...previous, apiKey, adminKey, 'db pass/word']) {
      expect(out).not.toContain(value);
    }
    // The set is the jar (current and previous value of each cookie) plus the pinned values.
    const after = redactionStats();
    expect(after.liveValues - before.liveValues).toBeLessThanOrEqual(2 * (names.length + 1));
    expect(after.pinnedValues).toBe(before.pinnedValues);
    const maxLength = Math.max(...[...history, apiKey, adminKey].map((v) => v.length)) + 8;
    expect(after.matcherStates).toBeLessThanOrEqual(
      1 + (after.liveValues + after.pinnedValues) * maxLength,
    );
    // Long dead values are no longer held; they were live once and are not redacted by value now.
    expect(redactText(dead[0]!)).toBe(dead[0]);
  });

  it('rebuilds the matcher once per change of the set, not once per log line', () => {
    redactText('warm the matcher up');
    const start = redactionStats().rebuilds;
    for (let i = 0; i < 50; i += 1) {
      redactText(`line ${i} with nothing secret in it`);
    }
    expect(redactionStats().rebuilds).toBe(start);
    const aec = opaque('a-');
    registerCookie(jarCookie('NID', opaque('n-')));
    registerCookie(jarCookie('AEC', aec));
    for (let i = 0; i < 50; i += 1) {
      redactText(`line ${i} after a jar change`);
    }
    expect(redactionStats().rebuilds).toBe(start + 1);
    // The same jar sent again is no change.
    registerCookie(jarCookie('AEC', aec));
    redactText('one more line');
    expect(redactionStats().rebuilds).toBe(start + 1);
    // A shaped value (PSIDCC as Google sets it) is never one, once it has pushed out the
    // unshaped values an earlier test left under that name.
    registerCookie(jarCookie('__Secure-1PSIDCC', opaque('AKEyXzW')));
    registerCookie(jarCookie('__Secure-1PSIDCC', opaque('AKEyXzW')));
    redactText('one more line');
    const settled = redactionStats().rebuilds;
    for (let i = 0; i < 100; i += 1) {
      registerCookie(jarCookie('__Secure-1PSIDCC', opaque('AKEyXzW')));
      expect(redactText(`line ${i}`)).toBe(`line ${i}`);
    }
    expect(redactionStats().rebuilds).toBe(settled);
  });

  it('costs the same per line after 5 000 rotations as after 10 (states, not seconds)', () => {
    const statesAfter = (rotations: number): number => {
      for (let i = 0; i < rotations; i += 1) {
        registerCookie(jarCookie('NID', opaque(`n${i}-`)));
        registerCookie(jarCookie('__Secure-3PSIDCC', opaque(`c${i}-`)));
      }
      redactText('rebuild now');
      return redactionStats().matcherStates;
    };
    const small = statesAfter(10);
    const large = statesAfter(5000);
    // Same jar size, same value lengths give or take a digit: the matcher does not grow.
    expect(large).toBeLessThanOrEqual(small + 2 * 2 * 4);
  });
});
