/**
 * Cookies on the wire: which of the account's cookies go to a URL (RFC 6265 §5.4 domain, path,
 * secure and expiry rules) and how Set-Cookie lines become `Cookie` objects. Domains follow the
 * Playwright convention: `.google.com` is a domain cookie, `gemini.google.com` is host-only.
 */
import type { Cookie } from './types.ts';

/** The `Cookie` header value for `url`, or null when no cookie applies. */
export function cookieHeader(
  cookies: readonly Cookie[],
  url: URL,
  nowS = Date.now() / 1000,
): string | null {
  const host = url.hostname.toLowerCase();
  const secureUrl = url.protocol === 'https:';
  const chosen = cookies
    .filter(
      (c) =>
        domainMatches(c.domain, host) &&
        pathMatches(c.path || '/', url.pathname || '/') &&
        (secureUrl || !c.secure) &&
        !isExpired(c, nowS),
    )
    // RFC 6265 §5.4: longer paths first; the sort is stable, so source order breaks ties.
    .sort((a, b) => (b.path || '/').length - (a.path || '/').length);
  return chosen.length === 0 ? null : chosen.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** Whether a cookie stored for `domain` is sent to `host`. */
export function domainMatches(domain: string, host: string): boolean {
  const d = domain.toLowerCase();
  if (!d.startsWith('.')) {
    return d === host;
  }
  const bare = d.slice(1);
  return host === bare || host.endsWith(d);
}

/** RFC 6265 §5.1.4 path-match. */
export function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (cookiePath === requestPath) {
    return true;
  }
  if (!requestPath.startsWith(cookiePath)) {
    return false;
  }
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Whether the cookie has a real expiry in the past (session cookies never expire here). */
export function isExpired(cookie: Cookie, nowS = Date.now() / 1000): boolean {
  return cookie.expires !== undefined && cookie.expires >= 0 && cookie.expires <= nowS;
}

/**
 * Parses Set-Cookie lines received from `url`. Lines with a bad name or a Domain that does not
 * cover the request host are dropped, as a browser would drop them.
 */
export function parseSetCookies(
  lines: readonly string[],
  url: URL,
  nowS = Date.now() / 1000,
): Cookie[] {
  const out: Cookie[] = [];
  for (const line of lines) {
    const cookie = parseSetCookie(line, url, nowS);
    if (cookie) {
      out.push(cookie);
    }
  }
  return out;
}

function parseSetCookie(line: string, url: URL, nowS: number): Cookie | null {
  const [pair = '', ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  const name = (eq < 0 ? '' : pair.slice(0, eq)).trim();
  if (!name || /[\s;=]/.test(name)) {
    return null;
  }
  const host = url.hostname.toLowerCase();
  const cookie: Cookie = {
    name,
    value: stripQuotes(pair.slice(eq + 1).trim()),
    domain: host,
    path: defaultPath(url.pathname),
  };
  const times: Expiry = { maxAgeS: null, expiresS: null };
  for (const attr of attrs) {
    if (!applyAttribute(cookie, attr, host, times)) {
      return null;
    }
  }
  // Max-Age wins over Expires (RFC 6265 §5.3 step 3); 0 or less means "delete now".
  if (times.maxAgeS !== null) {
    cookie.expires = times.maxAgeS <= 0 ? 0 : Math.floor(nowS + times.maxAgeS);
  } else if (times.expiresS !== null) {
    cookie.expires = times.expiresS;
  }
  return cookie;
}

interface Expiry {
  maxAgeS: number | null;
  expiresS: number | null;
}

/** Applies one attribute; false when it makes the browser reject the whole cookie. */
function applyAttribute(cookie: Cookie, attr: string, host: string, times: Expiry): boolean {
  const i = attr.indexOf('=');
  const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
  const val = i < 0 ? '' : attr.slice(i + 1).trim();
  if (key === 'domain' && val) {
    const d = val.replace(/^\./, '').toLowerCase();
    // A single-label Domain (`com`) would be a public suffix; browsers refuse those.
    if (!d.includes('.') || (host !== d && !host.endsWith(`.${d}`))) {
      return false;
    }
    cookie.domain = `.${d}`;
  } else if (key === 'path' && val.startsWith('/')) {
    cookie.path = val;
  } else if (key === 'max-age' && /^-?\d+$/.test(val)) {
    times.maxAgeS = Number(val);
  } else if (key === 'expires') {
    const t = Date.parse(val);
    times.expiresS = Number.isNaN(t) ? times.expiresS : Math.floor(t / 1000);
  } else if (key === 'secure') {
    cookie.secure = true;
  } else if (key === 'httponly') {
    cookie.httpOnly = true;
  } else if (key === 'samesite') {
    const s = sameSite(val);
    if (s) {
      cookie.sameSite = s;
    }
  }
  return true;
}

function stripQuotes(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

/** RFC 6265 §5.1.4 default-path: the request path up to its last slash. */
function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) {
    return '/';
  }
  const last = pathname.lastIndexOf('/');
  return last <= 0 ? '/' : pathname.slice(0, last);
}

function sameSite(value: string): Cookie['sameSite'] | null {
  switch (value.toLowerCase()) {
    case 'strict':
      return 'Strict';
    case 'lax':
      return 'Lax';
    case 'none':
      return 'None';
    default:
      return null;
  }
}

/** Newer cookies replace older ones with the same name, domain and path. */
export function mergeCookieLists(base: readonly Cookie[], newer: readonly Cookie[]): Cookie[] {
  const key = (c: Cookie) => `${c.name}\u0000${c.domain.toLowerCase()}\u0000${c.path}`;
  const map = new Map(base.map((c) => [key(c), c]));
  for (const c of newer) {
    map.set(key(c), c);
  }
  return [...map.values()];
}
