/**
 * Chromium's `--host-resolver-rules` syntax (net/base/host_mapping_rules.cc), so the worker's
 * HTTP client and Chromium read the same HOST_RESOLVER_RULES string:
 * `MAP gemini.google.com 127.0.0.1:8443, MAP *.googleusercontent.com 127.0.0.1:8443, EXCLUDE x`.
 */

/** One parsed rule. Patterns are lower-case globs (`*`, `?`), matched against host or host:port. */
export type HostRule =
  | { kind: 'map'; pattern: string; host: string; port: number | null }
  | { kind: 'exclude'; pattern: string };

/** Where a mapped connection really goes. */
export interface MappedAddress {
  host: string;
  port: number;
}

/** Chromium's replacement meaning "this name does not resolve". */
export const NOT_FOUND_HOST = '~NOTFOUND';

/** Parses a rules string; throws an Error naming every rule it cannot read. */
export function parseHostResolverRules(text: string): HostRule[] {
  const rules: HostRule[] = [];
  const bad: string[] = [];
  for (const raw of text.split(',')) {
    const parts = raw.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) {
      continue;
    }
    const rule = parseRule(parts);
    if (rule) {
      rules.push(rule);
    } else {
      bad.push(raw.trim());
    }
  }
  if (bad.length > 0) {
    throw new Error(`Invalid host resolver rule(s): ${bad.map((b) => `"${b}"`).join(', ')}`);
  }
  return rules;
}

function parseRule(parts: string[]): HostRule | null {
  const [keyword = '', pattern = '', replacement = ''] = parts;
  if (parts.length === 2 && keyword.toLowerCase() === 'exclude') {
    return { kind: 'exclude', pattern: pattern.toLowerCase() };
  }
  if (parts.length !== 3 || keyword.toLowerCase() !== 'map') {
    return null;
  }
  const target = parseHostPort(replacement);
  return target && { kind: 'map', pattern: pattern.toLowerCase(), ...target };
}

function parseHostPort(text: string): { host: string; port: number | null } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) {
    return null;
  }
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && port > 65535) {
    return null;
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

/**
 * Applies the rules as Chromium does: the first MAP whose pattern matches the host (or
 * host:port) wins unless an EXCLUDE matches the host. null means "connect as usual".
 */
export function mapHost(
  rules: readonly HostRule[],
  host: string,
  port: number,
): MappedAddress | null {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  for (const rule of rules) {
    if (rule.kind !== 'map') {
      continue;
    }
    if (!globMatch(rule.pattern, h) && !globMatch(rule.pattern, `${h}:${port}`)) {
      continue;
    }
    if (rules.some((r) => r.kind === 'exclude' && globMatch(r.pattern, h))) {
      return null;
    }
    return { host: rule.host, port: rule.port ?? port };
  }
  return null;
}

/** base::MatchPattern: `*` is any run of characters, `?` any one character. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${[...pattern]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    's',
  );
  return re.test(text);
}
