/**
 * The gateway in front of real workers, for e2e/gateway.test.ts: a PostgreSQL of its own (so a
 * test may stop it), the emulator, worker child processes (one account each, so a test may
 * SIGKILL one; each may be given a tier: free, Pro or Plus) and the Gateway in this process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { Emulator, type Tier } from '../../src/emulator/index.ts';
import { Gateway } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/logging.ts';
import { createPool, migrate } from '../../src/registry/index.ts';
import { startPostgres, type ServiceHandle } from './services.ts';
import { startChildWorker, uniqueEmail, type ChildWorker } from './worker.ts';

/** A running stack; close() stops everything that is still up. */
export interface GatewayStack {
  readonly pg: ServiceHandle;
  readonly pool: pg.Pool;
  readonly emulator: Emulator;
  readonly workers: readonly {
    readonly email: string;
    readonly tier: Tier | null;
    readonly worker: ChildWorker;
  }[];
  readonly gateway: Gateway;
  readonly url: string;
  /** An OpenAI client on the gateway; the SDK never retries (each retry would be a new send). */
  openai(): OpenAI;
  close(): Promise<void>;
}

/** The part of the gateway's /health the tests read. */
export interface StackHealth {
  readonly status: string;
  readonly eligible: number;
  readonly registryAgeMs: number | null;
  readonly registryExpired: boolean;
}

/** Reads the gateway's /health. */
export async function stackHealth(url: string): Promise<StackHealth> {
  return (await (await fetch(`${url}/health`)).json()) as StackHealth;
}

/** Polls /health until `ok` holds. */
export async function untilHealth(
  url: string,
  ok: (h: StackHealth) => boolean,
  timeoutMs = 30_000,
): Promise<StackHealth> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await stackHealth(url);
    if (ok(health)) {
      return health;
    }
    if (Date.now() > deadline) {
      throw new Error(`gateway health never matched: ${JSON.stringify(health)}`);
    }
    await sleep(200);
  }
}

/** Options of startGatewayStack. */
export interface GatewayStackOptions {
  /** Set on the workers and the gateway alike (e.g. API_KEYS and ADMIN_API_KEYS). */
  readonly env?: Record<string, string>;
  /** Runs before worker `index` starts; what it returns is added to that worker's environment. */
  readonly prepareWorker?: (
    index: number,
    emulator: Emulator,
    email: string,
  ) => Promise<Record<string, string>>;
  /** The tier of each worker's account, by index; absent or null: untiered (every model id). */
  readonly tiers?: readonly (Tier | null)[];
  /** Extra environment for the workers only (e.g. a short MODEL_DISCOVERY_INTERVAL_S). */
  readonly workerEnv?: Readonly<Record<string, string>>;
}

/** Starts the stack with `count` workers and waits until the gateway sees them all eligible. */
export async function startGatewayStack(
  count = 2,
  options: GatewayStackOptions = {},
): Promise<GatewayStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch(() => undefined);
    }
  };
  try {
    const pgServer = await startPostgres();
    stops.push(() => pgServer.stop());
    const pool = createPool({ connectionString: pgServer.url }, { connectTimeoutMs: 1000 });
    stops.push(() => pool.end());
    await migrate(pool);
    const emulator = await Emulator.start({
      certDir: process.env['E2E_CA_DIR']!,
      chunkDelayMs: 10,
    });
    stops.push(() => emulator.close());
    // The emulator reads the tier from a `+free`, `+pro` or `+plus` tag in the e-mail.
    const tiers = Array.from({ length: count }, (_, i) => options.tiers?.[i] ?? null);
    const workers = await Promise.all(
      tiers.map(async (tier, index) => {
        const email = uniqueEmail(tier ? `gw-stack-${index}+${tier}` : `gw-stack-${index}`);
        const extra = (await options.prepareWorker?.(index, emulator, email)) ?? {};
        const worker = await startChildWorker({
          emulator,
          email,
          env: { ...options.workerEnv, DATABASE_URL: pgServer.url, ...options.env, ...extra },
          // A worker attached to Chrome opens its tab and reads the login state before it listens.
          ...('CHROME_CDP_URL' in extra ? { startTimeoutMs: 60_000 } : {}),
        });
        stops.push(() => worker.stop('SIGKILL'));
        return { email, tier, worker };
      }),
    );
    // The workers run open too (e2e/support/worker.ts); the attack suite tests the keys.
    const config = loadConfig('gateway', {
      PORT: '0',
      DATABASE_URL: pgServer.url,
      ALLOW_NO_AUTH: '1',
      ...options.env,
    });
    const gateway = new Gateway(config, createLogger({ silent: true }), pool, {
      host: '127.0.0.1',
      refreshMs: 200,
      closeGraceMs: 500,
    });
    const url = `http://127.0.0.1:${await gateway.listen()}`;
    stops.push(() => gateway.close());
    await untilHealth(url, (h) => h.eligible >= count, 45_000);
    return {
      pg: pgServer,
      pool,
      emulator,
      workers,
      gateway,
      url,
      openai: () => new OpenAI({ apiKey: 'unused', baseURL: `${url}/v1`, maxRetries: 0 }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
