import { describe, expect, it } from 'vitest';
import { globMatch, mapHost, parseHostResolverRules } from '../../../src/gemini/host-rules.ts';

const DESIGN_RULES =
  'MAP gemini.google.com 127.0.0.1:8443, MAP *.googleusercontent.com 127.0.0.1:8443';

describe('parseHostResolverRules', () => {
  it("parses DESIGN.md's rules", () => {
    expect(parseHostResolverRules(DESIGN_RULES)).toEqual([
      { kind: 'map', pattern: 'gemini.google.com', host: '127.0.0.1', port: 8443 },
      { kind: 'map', pattern: '*.googleusercontent.com', host: '127.0.0.1', port: 8443 },
    ]);
  });

  it('parses EXCLUDE, IPv6 targets, targets without port, and any keyword case', () => {
    expect(
      parseHostResolverRules(' map  *  [::1]:77 ,EXCLUDE www.Google.com,MAP a.test b.test ,'),
    ).toEqual([
      { kind: 'map', pattern: '*', host: '::1', port: 77 },
      { kind: 'exclude', pattern: 'www.google.com' },
      { kind: 'map', pattern: 'a.test', host: 'b.test', port: null },
    ]);
    expect(parseHostResolverRules('')).toEqual([]);
  });

  it('rejects rules it cannot read, naming them', () => {
    expect(() => parseHostResolverRules('MAP onlyhost')).toThrow(/"MAP onlyhost"/);
    expect(() => parseHostResolverRules('REWRITE a b')).toThrow(/Invalid host resolver rule/);
    expect(() => parseHostResolverRules('MAP a b:99999')).toThrow(/"MAP a b:99999"/);
  });
});

describe('mapHost', () => {
  const rules = parseHostResolverRules(
    `${DESIGN_RULES}, MAP *.google.com 10.0.0.1, MAP api.test:8080 127.0.0.2:1, EXCLUDE www.google.com`,
  );

  it('maps exact and wildcard hosts to the rule target', () => {
    expect(mapHost(rules, 'gemini.google.com', 443)).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(mapHost(rules, 'lh3.googleusercontent.com', 443)).toEqual({
      host: '127.0.0.1',
      port: 8443,
    });
    expect(mapHost(rules, 'GEMINI.google.com', 443)).toEqual({ host: '127.0.0.1', port: 8443 });
  });

  it('keeps the original port when the target names none', () => {
    expect(mapHost(rules, 'accounts.google.com', 443)).toEqual({ host: '10.0.0.1', port: 443 });
  });

  it('matches host:port patterns', () => {
    expect(mapHost(rules, 'api.test', 8080)).toEqual({ host: '127.0.0.2', port: 1 });
    expect(mapHost(rules, 'api.test', 443)).toBeNull();
  });

  it('applies EXCLUDE and leaves unmatched hosts alone', () => {
    expect(mapHost(rules, 'www.google.com', 443)).toBeNull();
    expect(mapHost(rules, 'googleusercontent.com', 443)).toBeNull();
    expect(mapHost(rules, 'example.com', 443)).toBeNull();
  });

  it('uses the first matching MAP rule', () => {
    const r = parseHostResolverRules('MAP *.a.test 1.1.1.1, MAP x.a.test 2.2.2.2');
    expect(mapHost(r, 'x.a.test', 80)).toEqual({ host: '1.1.1.1', port: 80 });
  });
});

describe('globMatch', () => {
  it('supports * and ? and escapes everything else', () => {
    expect(globMatch('*.google.com', 'a.google.com')).toBe(true);
    expect(globMatch('*.google.com', 'agoogle.com')).toBe(false);
    expect(globMatch('g?.test', 'go.test')).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });
});
