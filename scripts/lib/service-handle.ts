/**
 * The handle every local service (PostgreSQL, Redis, Chromium) returns: stop it, kill it as a
 * crash would, and start it again on the same port and data.
 */
import type { ManagedProcess } from './managed-process.ts';

/** A service the tests can take away and bring back. */
export interface ServiceHandle {
  readonly url: string;
  readonly port: number;
  /** Graceful stop (SIGTERM, then wait). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts again on the same port and data. */
  start(): Promise<void>;
}

/** A ServiceHandle that also exposes its current process (for pids, exit info and log lines). */
export interface LocalServiceHandle extends ServiceHandle {
  /** The process of the latest start; null before the first. */
  readonly process: () => ManagedProcess | null;
}

/** How one service is launched and known to be ready. */
export interface ServiceSpec {
  readonly url: string;
  readonly port: number;
  /** The signal of a graceful stop (PostgreSQL's fast shutdown is SIGINT). */
  readonly stopSignal: NodeJS.Signals;
  /** Runs before each start (e.g. removing a crashed Chromium's lock files). */
  readonly prepare?: () => void;
  launch(): ManagedProcess;
  /** Resolves when the service accepts work; throws if it ended instead. */
  ready(child: ManagedProcess): Promise<void>;
}

/** Builds the handle over a spec; `start()` on a running service does nothing. */
export function createServiceHandle(spec: ServiceSpec): LocalServiceHandle {
  let child: ManagedProcess | null = null;
  return {
    url: spec.url,
    port: spec.port,
    process: () => child,
    async start() {
      if (child?.running) {
        return;
      }
      spec.prepare?.();
      child = spec.launch();
      try {
        await spec.ready(child);
      } catch (err) {
        await child.kill();
        throw err;
      }
    },
    async stop() {
      await child?.stop(spec.stopSignal);
    },
    async kill() {
      await child?.kill();
    },
  };
}
