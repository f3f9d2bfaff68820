/**
 * The chaos cluster: per account a headless Chromium signed in by a "person" and a worker child
 * process attached to it over CDP; one gateway child process in front; a database of its own.
 * Everything started is registered with the cleanup stack as it starts.
 */
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Emulator } from '../../../src/emulator/index.ts';
import { startChromium, tempDir, type ChromiumHandle } from '../services.ts';
import { startChildWorker, type ChildWorker } from '../worker.ts';
import type { Cleanup } from './cleanup.ts';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { ADMIN_HEADERS, CHAOS_KEY_ENV } from './keys.ts';
import { signInAsPerson } from './person.ts';

/** One account: its Chromium, when the person signed it in, and its worker. */
export interface ChaosNode {
  readonly email: string;
  readonly chrome: ChromiumHandle;
  readonly signedInAtMs: number;
  readonly worker: ChildWorker;
}

/** What the cluster is built from. */
export interface ChaosClusterOptions {
  readonly emulator: Emulator;
  readonly emails: readonly string[];
  readonly databaseUrl: string;
  /** Extra worker environment (on top of e2e/support/worker.ts's). */
  readonly workerEnv: Record<string, string>;
  readonly cleanup: Cleanup;
}

/** A running cluster. */
export interface ChaosCluster {
  readonly nodes: readonly ChaosNode[];
  readonly gateway: GatewayProcess;
}

/** Starts the gateway and every node; resolves once the gateway sees them all eligible. */
export async function startChaosCluster(o: ChaosClusterOptions): Promise<ChaosCluster> {
  // The gateway migrates the fresh database before any worker heartbeats into it.
  const gateway = await startGatewayProcess({ DATABASE_URL: o.databaseUrl });
  o.cleanup.add('gateway', () => gateway.stop());
  // allSettled: nothing may still be starting when a failure sends the test to its cleanup.
  const started = await Promise.allSettled(o.emails.map((email) => startNode(o, email)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    throw failed.reason;
  }
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  await waitForEligible(gateway.url, nodes.length, 45_000);
  return { nodes, gateway };
}

async function startNode(o: ChaosClusterOptions, email: string): Promise<ChaosNode> {
  // Directories first, so that they go even when what uses them fails to start.
  const profileDir = tempDir('chrome');
  const dataDir = tempDir('worker');
  o.cleanup.add(`directories of ${email}`, () =>
    [profileDir, dataDir].forEach((d) =>
      fs.rmSync(d, { recursive: true, force: true, maxRetries: 5 }),
    ),
  );
  const chrome = await startChromium({
    hostResolverRules: o.emulator.hostResolverRules(),
    userDataDir: profileDir,
  });
  o.cleanup.add(`chromium ${email}`, () => chrome.stop());
  const signedInAtMs = await signInAsPerson(chrome.url, email);
  // An empty data dir, no cookie_cache.json: the worker's only way in is the person's sign-in.
  const worker = await startChildWorker({
    emulator: o.emulator,
    email,
    dataDir,
    env: {
      ...o.workerEnv,
      ...CHAOS_KEY_ENV,
      CHROME_CDP_URL: chrome.url,
      DATABASE_URL: o.databaseUrl,
    },
  });
  o.cleanup.add(`worker ${email}`, () => stopChild(worker));
  return { email, chrome, signedInAtMs, worker };
}

/** SIGTERM, then SIGKILL if the worker has not exited after `graceMs`. */
export async function stopChild(worker: ChildWorker, graceMs = 12_000): Promise<void> {
  const stopped = worker.stop('SIGTERM');
  if ((await Promise.race([stopped.then(() => true), sleep(graceMs, false)])) === false) {
    await worker.stop('SIGKILL');
  }
}

/** The gateway's /health body, as far as the test reads it. */
export interface GatewayHealth {
  readonly eligible: number;
  readonly nodes: readonly {
    nodeUrl: string;
    account: string | null;
    state: string;
    loginState: string | null;
  }[];
}

/** Reads the gateway's /health. */
export async function gatewayHealth(gatewayUrl: string): Promise<GatewayHealth> {
  const res = await fetch(`${gatewayUrl}/health`, { headers: ADMIN_HEADERS });
  return (await res.json()) as GatewayHealth;
}

/** Polls /health until at least `count` nodes are eligible. */
export async function waitForEligible(
  gatewayUrl: string,
  count: number,
  timeoutMs: number,
): Promise<GatewayHealth> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await gatewayHealth(gatewayUrl);
    if (health.eligible >= count) {
      return health;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the gateway saw ${health.eligible}/${count} eligible nodes: ${JSON.stringify(health.nodes)}`,
      );
    }
    await sleep(200);
  }
}

/** What the test reads of a worker's /health. */
export interface WorkerHealth {
  readonly login_state?: string;
  readonly browser?: { connected?: boolean; reconnects?: number } | null;
}

/** Reads a worker's /health. */
export async function workerHealth(workerUrl: string): Promise<WorkerHealth> {
  const res = await fetch(`${workerUrl}/health`, { headers: ADMIN_HEADERS });
  return (await res.json()) as WorkerHealth;
}

/**
 * Waits until the node's worker is logged in and the gateway counts it eligible again; resolves
 * with the distinct `worker login state / gateway state` pairs seen on the way.
 */
export async function waitForServing(
  gatewayUrl: string,
  node: ChaosNode,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const seenStates = new Set<string>();
  for (;;) {
    const worker = await workerHealth(node.worker.url).catch(() => null);
    const seen = (await gatewayHealth(gatewayUrl)).nodes.find((x) => x.nodeUrl === node.worker.url);
    seenStates.add(`${worker?.login_state ?? 'no answer'}/${seen?.state ?? 'absent'}`);
    if (worker?.login_state === 'logged_in' && seen?.state === 'eligible') {
      return [...seenStates];
    }
    if (Date.now() > deadline) {
      throw new Error(`${node.email} is not serving again: ${JSON.stringify({ worker, seen })}`);
    }
    await sleep(100);
  }
}

/** Whether something accepts TCP connections at the URL's host and port, within 2 s. */
export async function tcpReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
