/**
 * @module http/express-url
 * How express reads a request's URL, for the fast paths that route a request before express sees
 * it (api/fast-path.ts, gateway/fast-path.ts): both must take exactly the requests express would
 * route the same way, and hand it every other.
 */

/**
 * What makes express's URL parser (parseurl) fall back to url.parse, which reads the URL otherwise
 * (a `#` ends the path and drops the query, whitespace is trimmed or escaped).
 */
const URL_PARSE_FALLBACK = /[\t\n\f\r #\u00a0\ufeff]/;

/** A URL's path and its query (with its `?`, or ''), as parseurl splits them. */
export interface PlainUrl {
  readonly path: string;
  readonly search: string;
}

/** The path and query of `url`, or null when parseurl would read it otherwise (express's then). */
export function plainUrl(url: string): PlainUrl | null {
  if (URL_PARSE_FALLBACK.test(url)) {
    return null;
  }
  const at = url.indexOf('?');
  return at < 0 ? { path: url, search: '' } : { path: url.slice(0, at), search: url.slice(at) };
}

/**
 * A route parameter's value from its path segment, decoded as express's router decodes it; null
 * when the segment is empty, spans more than one segment, or does not decode (express's 400).
 */
export function routeParam(segment: string): string | null {
  if (segment === '' || segment.includes('/')) {
    return null;
  }
  try {
    return segment.includes('%') ? decodeURIComponent(segment) : segment;
  } catch {
    return null;
  }
}
