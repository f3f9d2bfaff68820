/**
 * The code the page transport runs inside the worker's tab, and the messages it sends back. It is
 * a plain string, not a compiled function: a transpiler's helpers (`__name` and the like) do not
 * exist in the page. It runs in an isolated world, so Google's scripts cannot see our binding or
 * wrap the `fetch` we call, while the request still leaves as the page's own (origin, cookies,
 * TLS, DBSC-bound session).
 */

/** The isolated world our code runs in. */
export const PAGE_WORLD = 'gemini-kasm-transport';
/** The Runtime binding the page streams chunks through. */
export const PAGE_BINDING = '__geminiKasmChunk';

/** One request for the page to send. Exactly one of `text` and `base64` carries a body. */
export interface PageFetchSpec {
  readonly id: string;
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string | null;
  readonly base64: string | null;
}

/**
 * What the fetch resolved to: the response head, or the name of the error fetch threw. An
 * unfollowed redirect is `opaqueRedirect` (status 302 and no headers: the page sees no more).
 */
export type PageFetchHead =
  | {
      readonly status: number;
      readonly headers: [string, string][];
      readonly url: string;
      readonly opaqueRedirect: boolean;
    }
  | { readonly failed: string };

/** One binding call: a body chunk (base64), the end, or the error that ended the read. */
export interface PageChunkMessage {
  readonly id: string;
  readonly data?: string;
  readonly end?: true;
  readonly failed?: string;
}

/**
 * `(spec) => Promise<PageFetchHead>`. Resolves at the response head; the body follows through the
 * binding, one call per chunk the network hands over. `redirect: 'manual'` keeps redirects
 * unfollowed as on the node transport (the page sees only that one happened: status 0, reported
 * here as `opaqueRedirect`; page-redirects.ts learns the status and target from CDP).
 */
export const PAGE_FETCH_SOURCE = `async (spec) => {
  const g = globalThis;
  const live = (g.__geminiKasmFetches ??= new Map());
  const controller = new AbortController();
  live.set(spec.id, controller);
  const emit = (m) => g.${PAGE_BINDING}(JSON.stringify(Object.assign({ id: spec.id }, m)));
  const errorName = (e) => (e && typeof e.name === 'string' ? e.name : 'Error');
  let res;
  try {
    const body = spec.base64 !== null
      ? Uint8Array.from(atob(spec.base64), (c) => c.charCodeAt(0))
      : spec.text;
    res = await fetch(spec.url, {
      method: spec.method, headers: spec.headers, body, credentials: 'include',
      redirect: 'manual', cache: 'no-store', signal: controller.signal,
    });
  } catch (e) {
    live.delete(spec.id);
    return { failed: errorName(e) };
  }
  const reader = res.body ? res.body.getReader() : null;
  (async () => {
    try {
      for (;;) {
        const step = reader ? await reader.read() : { done: true };
        if (step.done) break;
        let bin = '';
        for (let i = 0; i < step.value.length; i += 0x8000) {
          bin += String.fromCharCode.apply(null, step.value.subarray(i, i + 0x8000));
        }
        emit({ data: btoa(bin) });
      }
      emit({ end: true });
    } catch (e) {
      emit({ failed: errorName(e) });
    } finally {
      live.delete(spec.id);
    }
  })();
  const opaqueRedirect = res.type === 'opaqueredirect';
  const status = opaqueRedirect ? 302 : res.status;
  return { status, headers: Array.from(res.headers), url: res.url, opaqueRedirect };
}`;

/** An expression that aborts the page's fetch `id` (nothing when it already ended). */
export function pageAbortSource(id: string): string {
  return `globalThis.__geminiKasmFetches?.get(${JSON.stringify(id)})?.abort()`;
}
