/**
 * The one HTTP client for all upstream traffic (undici, keep-alive pooling). With host resolver
 * rules it connects to the mapped address but keeps the real URL, Host header and TLS server
 * name, so production and test code paths are the same. Redirects are never followed here.
 */
import tls from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { mapHost, NOT_FOUND_HOST, parseHostResolverRules, type HostRule } from './host-rules.ts';

/** How the HTTP client connects. */
export interface HttpClientOptions {
  /** Chromium `--host-resolver-rules` syntax (HOST_RESOLVER_RULES); absent or null: plain DNS. */
  readonly hostResolverRules?: string | null;
  /**
   * Extra trusted CA certificates (PEM), added to Node's bundled roots. For in-process tests
   * only: deployments trust a test CA through NODE_EXTRA_CA_CERTS, which Node applies itself.
   */
  readonly ca?: string | null;
  readonly connectTimeoutMs?: number;
}

/** One request; the URL is passed apart. */
export interface HttpRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array | null;
  readonly signal?: AbortSignal;
}

/** A response whose body has not been read yet. Read it, or call `discard()`. */
export interface HttpResponse {
  /** The URL that was requested (redirects are not followed). */
  readonly url: URL;
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, ` (Set-Cookie is in `setCookies`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Every Set-Cookie line, unjoined. */
  readonly setCookies: readonly string[];
  /** The raw body, chunk by chunk. */
  readonly body: AsyncIterable<Uint8Array>;
  /** A header by case-insensitive name. */
  header(name: string): string | undefined;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** The whole body; rejects once it grows past `maxBytes`. */
  bytes(maxBytes?: number): Promise<Buffer>;
  /** Drops the body so the connection can be reused. */
  discard(): Promise<void>;
}

/** Upstream HTTP. `close()` is idempotent and ends pooled connections. */
export interface HttpClient {
  request(url: string | URL, req?: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** Thrown by `bytes()` when a body exceeds its limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`Response body exceeds ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Creates the pooled client. Throws when the host resolver rules do not parse. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const rules = options.hostResolverRules ? parseHostResolverRules(options.hostResolverRules) : [];
  const base = buildConnector({
    timeout: options.connectTimeoutMs ?? 10_000,
    ...(options.ca ? { ca: [...tls.rootCertificates, options.ca] } : {}),
  });
  const agent = new Agent({
    connect: rules.length > 0 ? createMappedConnector(rules, base) : base,
    keepAliveTimeout: 30_000,
  });
  let closing: Promise<void> | null = null;
  return {
    async request(url, req = {}) {
      const target = typeof url === 'string' ? new URL(url) : url;
      const res = await agent.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: req.method ?? 'GET',
        headers: { ...req.headers },
        body: req.body ?? null,
        signal: req.signal ?? null,
      });
      return wrapResponse(target, res.statusCode, res.headers, res.body);
    },
    close() {
      closing ??= agent.close();
      return closing;
    },
  };
}

/**
 * A connector that sends mapped hosts to their rule's address while the TLS server name (SNI
 * and certificate check) stays the real host name.
 */
export function createMappedConnector(
  rules: readonly HostRule[],
  base: buildConnector.connector,
): buildConnector.connector {
  return (options, callback) => {
    const defaultPort = options.protocol === 'https:' ? 443 : 80;
    const port = Number(options.port) || defaultPort;
    const mapped = mapHost(rules, options.hostname, port);
    if (!mapped) {
      base(options, callback);
      return;
    }
    if (mapped.host === NOT_FOUND_HOST) {
      const err = new Error(`getaddrinfo ENOTFOUND ${options.hostname} (host resolver rules)`);
      callback(Object.assign(err, { code: 'ENOTFOUND' }), null);
      return;
    }
    const realHost = options.hostname.replace(/^\[(.*)\]$/, '$1');
    base(
      {
        ...options,
        hostname: mapped.host,
        port: String(mapped.port),
        // SNI cannot carry an IP address.
        ...(isIpLiteral(realHost) ? {} : { servername: options.servername || realHost }),
      },
      callback,
    );
  };
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

type RawHeaders = Record<string, string | string[] | undefined>;

interface RawBody extends AsyncIterable<Uint8Array> {
  text(): Promise<string>;
  dump(): Promise<void>;
}

function wrapResponse(url: URL, status: number, raw: RawHeaders, body: RawBody): HttpResponse {
  const headers: Record<string, string> = {};
  let setCookies: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) {
      continue;
    }
    const key = name.toLowerCase();
    if (key === 'set-cookie') {
      setCookies = Array.isArray(value) ? value : [value];
    } else {
      headers[key] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return {
    url,
    status,
    headers,
    setCookies,
    body,
    header: (name) => headers[name.toLowerCase()],
    text: () => body.text(),
    bytes: (maxBytes = Number.POSITIVE_INFINITY) => readAll(body, maxBytes),
    discard: () => body.dump(),
  };
}

/** A whole body; rejects with BodyTooLargeError once it grows past `maxBytes`. */
export async function readAll(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks, size);
}
