/**
 * Fetches an image URL a client sent without letting it reach inside: http(s) only; the host is
 * resolved first and every address checked (address-policy.ts); the connection is pinned to the
 * checked address (a DNS answer that changes between check and connect cannot swap it); each
 * redirect is checked the same way, at most 3; the body is streamed and cut at the size cap; one
 * timeout covers the whole fetch. A refused connection, a timeout and an HTTP error all read
 * "could not fetch the image URL", so the answer never tells whether a port is open.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { AppError, InvalidRequestError, PayloadTooLargeError } from '../errors.ts';
import { mapHost, parseHostResolverRules } from '../gemini/index.ts';
import { isIpLiteral, isPublicAddress } from './address-policy.ts';

/** Resolves a host name to its addresses (dns.lookup by default; tests inject their own). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

export interface SafeFetchOptions {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** IMAGE_URL_ALLOW_PRIVATE=1: tests and trusted setups only. */
  readonly allowPrivate: boolean;
  readonly maxRedirects?: number;
  readonly resolve?: ResolveHost;
  /** Which resolved addresses may be reached (isPublicAddress; tests narrow it to one). */
  readonly allowAddress?: ((address: string) => boolean) | undefined;
  readonly signal?: AbortSignal;
}

/** The image URL points somewhere it may not (scheme, address, or too many redirects). */
export function imageUrlNotAllowed(): InvalidRequestError {
  return new InvalidRequestError('image URL not allowed', {
    param: 'messages',
    code: 'image_url_not_allowed',
  });
}

/** The image is over the size cap (413). */
export function imageTooLarge(): PayloadTooLargeError {
  return new PayloadTooLargeError('image too large', {
    param: 'messages',
    code: 'image_too_large',
  });
}

function couldNotFetch(): InvalidRequestError {
  return new InvalidRequestError('could not fetch the image URL', {
    param: 'messages',
    code: 'image_url_unreachable',
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const systemResolve: ResolveHost = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The resolver under HOST_RESOLVER_RULES (tests and development): a mapped name resolves to its
 * mapping's host, as in Chromium and the Gemini client, and is then checked like any other.
 */
export function hostRulesResolver(rulesText: string | null): ResolveHost {
  if (!rulesText) {
    return systemResolve;
  }
  const rules = parseHostResolverRules(rulesText);
  return async (hostname) => {
    const mapped = mapHost(rules, hostname, 443);
    if (!mapped) {
      return systemResolve(hostname);
    }
    return isIpLiteral(mapped.host) ? [mapped.host] : systemResolve(mapped.host);
  };
}

/** Resolves the URL's host and returns the one address to connect to; throws when refused. */
async function checkedAddress(url: URL, opts: SafeFetchOptions): Promise<string> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw imageUrlNotAllowed();
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIpLiteral(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await (opts.resolve ?? systemResolve)(host);
    } catch {
      throw couldNotFetch();
    }
  }
  // Every address must pass: a name that also resolves inside is refused outright.
  if (addresses.length === 0) {
    throw couldNotFetch();
  }
  if (!opts.allowPrivate && !addresses.every(opts.allowAddress ?? isPublicAddress)) {
    throw imageUrlNotAllowed();
  }
  return addresses[0]!;
}

/** An undici Agent whose every connection goes to `address`, whatever DNS says meanwhile. */
function pinnedAgent(address: string): Agent {
  const family = address.includes(':') ? 6 : 4;
  const lookup = ((_host: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    if (options?.all) {
      cb(null, [{ address, family }]);
    } else {
      cb(null, address, family);
    }
  }) as unknown as LookupFunction;
  return new Agent({ connect: { lookup }, connections: 1, pipelining: 0 });
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      throw imageTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

type Hop = { kind: 'body'; data: Buffer } | { kind: 'redirect'; to: URL };

async function fetchOnce(url: URL, opts: SafeFetchOptions, signal: AbortSignal): Promise<Hop> {
  const address = await checkedAddress(url, opts);
  signal.throwIfAborted();
  const agent = pinnedAgent(address);
  try {
    const res = await request(url, {
      dispatcher: agent,
      signal,
      headers: { accept: 'image/*', 'user-agent': 'gemini-kasm image fetch' },
    });
    const location = res.headers['location'];
    if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
      await res.body.dump();
      return { kind: 'redirect', to: new URL(location, url) };
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw couldNotFetch();
    }
    if (Number(res.headers['content-length'] ?? 0) > opts.maxBytes) {
      res.body.destroy();
      throw imageTooLarge();
    }
    try {
      return { kind: 'body', data: await readCapped(res.body, opts.maxBytes) };
    } finally {
      res.body.destroy();
    }
  } finally {
    void agent.destroy().catch(() => {});
  }
}

/** The image's bytes; throws a 400 "image URL not allowed", "image too large" or "could not fetch". */
export async function fetchImageUrl(rawUrl: string, opts: SafeFetchOptions): Promise<Buffer> {
  const maxRedirects = opts.maxRedirects ?? 3;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw imageUrlNotAllowed();
  }
  const aborted = new Promise<never>((_resolve, reject) => {
    const fail = () => reject(couldNotFetch());
    if (signal.aborted) {
      fail();
    }
    signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => {});
  for (let hop = 0; hop <= maxRedirects; hop += 1) {
    let result: Hop;
    try {
      // The race bounds a slow DNS answer too, which no socket timeout would.
      result = await Promise.race([fetchOnce(url, opts, signal), aborted]);
    } catch (err) {
      throw err instanceof AppError ? err : couldNotFetch();
    }
    if (result.kind === 'body') {
      return result.data;
    }
    url = result.to;
  }
  throw imageUrlNotAllowed();
}
