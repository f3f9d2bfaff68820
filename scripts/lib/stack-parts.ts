/**
 * The parts of a local stack and how each one starts: PostgreSQL and Redis, the emulator (in
 * this process), one Chromium per worker, the workers and the gateway (child processes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Emulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/logging.ts';
import type { Binaries } from './binaries.ts';
import { startChromium } from './chromium.ts';
import type { ManagedProcess } from './managed-process.ts';
import { startRoleProcess } from './node-role.ts';
import { startPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';
import type { LocalServiceHandle } from './service-handle.ts';
import { gatewayEnv, workerEnv, type EmulatorLink, type StackLayout } from './stack-layout.ts';
import { keysEnv, type StackKeys } from './stack-keys.ts';
import type { StackOptions, StackPorts } from './stack-options.ts';

/** Start-up order; stopping goes layer by layer in reverse, each layer in parallel. */
export enum Layer {
  Databases,
  Emulator,
  Browsers,
  Workers,
  Gateway,
}

/** One started thing the stack must stop. */
export interface Part {
  readonly name: string;
  readonly layer: Layer;
  /** null for the emulator, which runs in this process. */
  readonly child: ManagedProcess | null;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** What the starters read. */
export interface PartContext {
  readonly options: StackOptions;
  readonly ports: StackPorts;
  readonly layout: StackLayout;
  readonly bins: Binaries;
  readonly rootDir: string;
  /** null in --real. */
  readonly emulator: EmulatorLink | null;
  /** Where role processes' notable log lines go. */
  readonly echo: (line: string) => void;
  /** API_KEYS and ADMIN_API_KEYS of every role. */
  readonly keys: StackKeys;
}

function servicePart(name: string, layer: Layer, handle: LocalServiceHandle): Part {
  return {
    name,
    layer,
    child: handle.process(),
    stop: () => handle.stop(),
    kill: () => handle.kill(),
  };
}

function processPart(layer: Layer, child: ManagedProcess): Part {
  return { name: child.name, layer, child, stop: () => child.stop(), kill: () => child.kill() };
}

/** Starters for PostgreSQL (cluster in DIR/pg, initdb once) and Redis. */
export function databaseStarters(ctx: PartContext): (() => Promise<Part>)[] {
  return [
    async () => {
      const pg = await startPostgres({
        port: ctx.ports.postgres,
        dir: ctx.layout.pg,
        binDir: path.dirname(ctx.bins.postgres),
        logFile: ctx.layout.log('postgres'),
        detached: true,
      });
      return servicePart('postgres', Layer.Databases, pg);
    },
    async () => {
      const redis = await startRedis({
        port: ctx.ports.redis,
        bin: ctx.bins.redisServer,
        logFile: ctx.layout.log('redis'),
        detached: true,
      });
      return servicePart('redis', Layer.Databases, redis);
    },
  ];
}

/** Starts the emulator in this process with its CA kept in DIR/ca. */
export async function startEmulatorPart(
  ctx: PartContext,
): Promise<{ part: Part; link: EmulatorLink; port: number }> {
  const stream = fs.createWriteStream(ctx.layout.log('emulator'), { flags: 'a' });
  const emulator = await Emulator.start({
    port: ctx.ports.emulator,
    certDir: ctx.layout.ca,
    logger: createLogger({ stream }),
  });
  const close = async () => {
    await emulator.close();
    stream.end();
  };
  return {
    part: { name: 'emulator', layer: Layer.Emulator, child: null, stop: close, kill: close },
    link: { hostResolverRules: emulator.hostResolverRules(), caCertPath: emulator.caCertPath },
    port: emulator.port,
  };
}

/** Starters for one Chromium per worker, each with its profile in DIR/profiles/workerN. */
export function browserStarters(ctx: PartContext): (() => Promise<Part>)[] {
  const { real, display } = ctx.options;
  const isRoot = process.getuid?.() === 0;
  return ctx.ports.cdp.map((port, i) => async () => {
    const chrome = await startChromium({
      port,
      userDataDir: ctx.layout.profile(i + 1),
      headless: display === null,
      ignoreCertificateErrors: !real,
      // A real Google profile keeps Chromium's sandbox where it can have one (not as root).
      noSandbox: !real || isRoot,
      hostResolverRules: ctx.emulator?.hostResolverRules,
      startUrl: real ? 'https://gemini.google.com/app' : 'about:blank',
      configDir: ctx.layout.chromiumConfig,
      bin: ctx.bins.chromium,
      logFile: ctx.layout.log(`chromium-worker${i + 1}`),
      detached: true,
    });
    return servicePart(`chromium-worker${i + 1}`, Layer.Browsers, chrome);
  });
}

/** Spawns every worker (`src/main.ts worker`); they still have to come up. */
export function spawnWorkers(ctx: PartContext): Part[] {
  return ctx.ports.workers.map((_, i) => {
    const n = i + 1;
    fs.mkdirSync(ctx.layout.data(n), { recursive: true });
    const child = startRoleProcess({
      name: `worker${n}`,
      role: 'worker',
      env: { ...workerEnv(n, ctx.options, ctx.ports, ctx.emulator), ...keysEnv(ctx.keys) },
      logFile: ctx.layout.log(`worker${n}`),
      rootDir: ctx.rootDir,
      echo: ctx.echo,
    });
    return processPart(Layer.Workers, child);
  });
}

/** Spawns the gateway (`src/main.ts gateway`) on --port. */
export function spawnGateway(ctx: PartContext): Part {
  const child = startRoleProcess({
    name: 'gateway',
    role: 'gateway',
    env: { ...gatewayEnv(ctx.ports), ...keysEnv(ctx.keys) },
    logFile: ctx.layout.log('gateway'),
    rootDir: ctx.rootDir,
    echo: ctx.echo,
  });
  return processPart(Layer.Gateway, child);
}
