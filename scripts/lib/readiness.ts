/**
 * Waiting for the stack's parts: polls that give up on a deadline, or at once when the stack is
 * stopped or one of its processes dies (the abort signal's reason says which).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How long and how often to poll, and what stops the wait early. */
export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Aborting it ends the wait by throwing `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /** Says what was awaited, for the timeout message (it may read the last probe's findings). */
  readonly describe: () => string;
}

/** Calls `probe` until it returns a value; throws on the deadline or the signal. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs / 1000} s: ${options.describe()}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** GET a URL as JSON; null when it cannot be reached or is not JSON. */
export async function getJson(
  url: string,
  timeoutMs = 3000,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown } | null> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.json() };
  } catch {
    return null;
  }
}

/** One node as the gateway's /health reports it (the fields the stack reads). */
export interface GatewayNode {
  readonly nodeUrl: string;
  readonly workerId: string | null;
  readonly state: string;
  readonly eligible: boolean;
  readonly loginState: string | null;
}

/** The nodes in a gateway /health body; [] when the body has another shape. */
export function gatewayNodes(body: unknown): GatewayNode[] {
  const nodes = (body as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) {
    return [];
  }
  return nodes.filter(
    (n): n is GatewayNode =>
      typeof n === 'object' &&
      n !== null &&
      typeof (n as GatewayNode).nodeUrl === 'string' &&
      typeof (n as GatewayNode).eligible === 'boolean',
  );
}

/** What the gateway says about each expected node: its state, or "not listed". */
export function describeNodes(expected: readonly string[], nodes: readonly GatewayNode[]): string {
  return expected
    .map((url) => {
      const n = nodes.find((x) => x.nodeUrl === url);
      return n
        ? `${url} ${n.eligible ? 'eligible' : `${n.state} (login ${String(n.loginState)})`}`
        : `${url} not listed`;
    })
    .join(', ');
}

/**
 * Waits until the gateway's /health lists every expected node (`http://127.0.0.1:PORT`), and,
 * with `eligible`, until each one can take requests. The node list is shown to admin keys only.
 */
export async function waitForGatewayNodes(
  gatewayUrl: string,
  expected: readonly string[],
  eligible: boolean,
  options: Omit<WaitOptions, 'describe'> & { readonly adminKey?: string | null },
): Promise<GatewayNode[]> {
  const headers: Record<string, string> = options.adminKey
    ? { authorization: `Bearer ${options.adminKey}` }
    : {};
  let last: GatewayNode[] = [];
  let reached = false;
  return waitFor(
    async () => {
      const res = await getJson(`${gatewayUrl}/health`, 3000, headers);
      reached = res !== null;
      last = res ? gatewayNodes(res.body) : [];
      const ok = expected.every((url) =>
        last.some((n) => n.nodeUrl === url && (!eligible || n.eligible)),
      );
      return ok ? last : undefined;
    },
    {
      ...options,
      intervalMs: 500,
      describe: () =>
        reached
          ? `the gateway does not list every worker as ${eligible ? 'eligible' : 'registered'}: ${describeNodes(expected, last)}`
          : `the gateway at ${gatewayUrl} does not answer /health`,
    },
  );
}

/** Waits until GET url answers 200. */
export async function waitForHttpOk(
  url: string,
  options: Omit<WaitOptions, 'describe'>,
): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => null);
      await res?.body?.cancel();
      return res?.ok ? true : undefined;
    },
    { ...options, describe: () => `${url} did not answer 200` },
  );
}
