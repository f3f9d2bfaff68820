/**
 * Where a stack keeps its state under DIR, and the environment each role gets. Pure.
 */
import path from 'node:path';
import type { StackOptions, StackPorts } from './stack-options.ts';

/** The files and directories of a stack under its state directory. */
export interface StackLayout {
  readonly dir: string;
  readonly logs: string;
  readonly pg: string;
  readonly ca: string;
  /** XDG_CONFIG_HOME of the Chromiums (their crash handler's database lives there). */
  readonly chromiumConfig: string;
  readonly pidFile: string;
  /** The generated API keys (see stack-keys.ts). */
  readonly keysFile: string;
  log(name: string): string;
  profile(worker: number): string;
  data(worker: number): string;
}

/** The layout of the stack in `dir`. */
export function stackLayout(dir: string): StackLayout {
  return {
    dir,
    logs: path.join(dir, 'logs'),
    pg: path.join(dir, 'pg'),
    ca: path.join(dir, 'ca'),
    chromiumConfig: path.join(dir, 'chromium'),
    pidFile: path.join(dir, 'stack-pids.json'),
    keysFile: path.join(dir, 'api-keys.json'),
    log: (name) => path.join(dir, 'logs', `${name}.log`),
    profile: (worker) => path.join(dir, 'profiles', `worker${worker}`),
    data: (worker) => path.join(dir, 'data', `worker${worker}`),
  };
}

/** The emulator's pieces the workers need: its host rules and the CA they must trust. */
export interface EmulatorLink {
  readonly hostResolverRules: string;
  readonly caCertPath: string;
}

/** Base URLs of the stack's services. */
export function serviceUrls(ports: StackPorts) {
  return {
    gateway: `http://127.0.0.1:${ports.gateway}`,
    workers: ports.workers.map((p) => `http://127.0.0.1:${p}`),
    cdp: ports.cdp.map((p) => `http://127.0.0.1:${p}`),
    database: `postgresql://postgres@127.0.0.1:${ports.postgres}/postgres`,
    redis: `redis://127.0.0.1:${ports.redis}`,
  };
}

/** The Google account worker `n` serves: the emulator's test address, or a name in --real. */
export function accountOf(worker: number, real: boolean): string {
  return real ? `worker${worker}` : `worker${worker}@stack.local`;
}

/** The environment of worker `n` (1-based), on top of the stack's own. */
export function workerEnv(
  worker: number,
  options: StackOptions,
  ports: StackPorts,
  emulator: EmulatorLink | null,
): Record<string, string> {
  const urls = serviceUrls(ports);
  const port = String(ports.workers[worker - 1]);
  return {
    PORT: port,
    EXTERNAL_IP: '127.0.0.1',
    EXTERNAL_PORT: port,
    GEMINI_WORKER_ID: `worker${worker}`,
    GEMINI_ACCOUNT: accountOf(worker, options.real),
    DATA_DIR: stackLayout(options.dir).data(worker),
    CHROME_CDP_URL: urls.cdp[worker - 1] ?? '',
    REDIS_URL: urls.redis,
    DATABASE_URL: urls.database,
    HEARTBEAT_INTERVAL_MS: '2000',
    // Empty clears a value inherited from the shell (config treats '' as unset).
    HOST_RESOLVER_RULES: emulator?.hostResolverRules ?? '',
    ...(emulator ? { NODE_EXTRA_CA_CERTS: emulator.caCertPath } : {}),
  };
}

/** The gateway's environment, on top of the stack's own. */
export function gatewayEnv(ports: StackPorts): Record<string, string> {
  const urls = serviceUrls(ports);
  return {
    PORT: String(ports.gateway),
    DATABASE_URL: urls.database,
    REDIS_URL: urls.redis,
  };
}
