/**
 * Chrome's `/json/version`: cheap to poll while Chrome is away, and the source of the current
 * WebSocket URL (the browser GUID in it changes on every restart).
 */

/** The fields of `/json/version` the session uses. */
export interface CdpVersion {
  readonly browser: string;
  readonly webSocketDebuggerUrl: string;
}

/** GETs `${cdpUrl}/json/version` within `timeoutMs`; throws when Chrome does not answer. */
export async function fetchCdpVersion(cdpUrl: string, timeoutMs: number): Promise<CdpVersion> {
  // A ws:// endpoint is polled over http on the same host and port.
  const url = new URL('/json/version', cdpUrl.replace(/^ws(s?):/i, 'http$1:'));
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    throw new Error(`CDP endpoint answered HTTP ${res.status}`);
  }
  const body = (await res.json()) as { Browser?: unknown; webSocketDebuggerUrl?: unknown };
  if (typeof body.webSocketDebuggerUrl !== 'string') {
    throw new Error('CDP endpoint gave no webSocketDebuggerUrl');
  }
  const browser = typeof body.Browser === 'string' ? body.Browser : 'unknown';
  return { browser, webSocketDebuggerUrl: body.webSocketDebuggerUrl };
}
