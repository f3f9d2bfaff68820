/**
 * Debian Chromium with CDP on a loopback port, as Kasm's Chrome runs: headless for tests and the
 * emulator stack, headed for a person to sign in to Google when a display is there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinaries } from './binaries.ts';
import { ManagedProcess, waitForListening } from './managed-process.ts';
import { freePort } from './ports.ts';
import { isAlive, processesMentioning, signalProcess } from './process-tree.ts';
import { createServiceHandle, type LocalServiceHandle } from './service-handle.ts';

/** How Chromium runs; every field is optional and the defaults are the tests' headless browser. */
export interface ChromiumOptions {
  /** Chromium's `--host-resolver-rules`, pointing Google's hosts at the emulator. */
  readonly hostResolverRules?: string | undefined;
  /** Reuse a profile across restarts; a fresh one by default. */
  readonly userDataDir?: string | undefined;
  /** A fixed CDP port; a free one by default. */
  readonly port?: number | undefined;
  /** false opens a window (needs DISPLAY); true by default. */
  readonly headless?: boolean | undefined;
  /** Accept any certificate (the emulator's); true by default, never for real Google. */
  readonly ignoreCertificateErrors?: boolean | undefined;
  /** `--no-sandbox`; true by default (Chromium refuses root without it). */
  readonly noSandbox?: boolean | undefined;
  /** The first page; about:blank by default. */
  readonly startUrl?: string | undefined;
  /**
   * XDG_CONFIG_HOME for Chromium: its crash handler (which outlives a parent's process group)
   * keeps its database there, so a directory of ours makes it findable. Inherited by default.
   */
  readonly configDir?: string | undefined;
  /** The chromium binary; found by findBinaries() by default. */
  readonly bin?: string | undefined;
  /** Appends its output here; discarded by default. */
  readonly logFile?: string | undefined;
  /** Its own process group, so a terminal's Ctrl-C reaches only the parent. */
  readonly detached?: boolean | undefined;
}

/** A Chromium handle: its profile directory and the pid of the browser process. */
export interface ChromiumHandle extends LocalServiceHandle {
  readonly userDataDir: string;
  readonly pid: () => number | undefined;
}

const LOCK_FILES = ['SingletonLock', 'SingletonSocket', 'SingletonCookie'];

/** The command-line flags for these options. */
export function chromiumArgs(
  options: ChromiumOptions,
  port: number,
  userDataDir: string,
): string[] {
  return [
    ...(options.headless === false ? [] : ['--headless']),
    ...(options.noSandbox === false ? [] : ['--no-sandbox']),
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(options.ignoreCertificateErrors === false ? [] : ['--ignore-certificate-errors']),
    `--remote-debugging-port=${port}`,
    `--user-data-dir=${userDataDir}`,
    ...(options.hostResolverRules ? [`--host-resolver-rules=${options.hostResolverRules}`] : []),
    options.startUrl ?? 'about:blank',
  ];
}

/** Headless Debian Chromium with CDP on a loopback port, as Kasm's Chrome runs. */
export async function startChromium(options: ChromiumOptions = {}): Promise<ChromiumHandle> {
  const port = options.port ?? (await freePort());
  const userDataDir = options.userDataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gk-chrome-'));
  const bin = options.bin ?? findBinaries({}, ['chromium']).chromium;
  const env = options.configDir
    ? { ...process.env, XDG_CONFIG_HOME: options.configDir }
    : undefined;
  const base = createServiceHandle({
    url: `http://127.0.0.1:${port}`,
    port,
    stopSignal: 'SIGTERM',
    // A crashed or killed Chromium leaves these behind and the next one refuses the profile.
    prepare: () => {
      fs.mkdirSync(userDataDir, { recursive: true });
      for (const f of LOCK_FILES) {
        fs.rmSync(path.join(userDataDir, f), { force: true });
      }
    },
    launch: () =>
      ManagedProcess.spawn({
        name: 'chromium',
        command: bin,
        args: chromiumArgs(options, port, userDataDir),
        env,
        logFile: options.logFile,
        detached: options.detached,
      }),
    ready: (child) => waitForListening(child, port, 30_000),
  });
  const stop = async (): Promise<void> => {
    await base.stop();
    await reapHelpers([userDataDir, ...(options.configDir ? [options.configDir] : [])]);
  };
  const handle: ChromiumHandle = { ...base, stop, userDataDir, pid: () => base.process()?.pid };
  await handle.start();
  return handle;
}

/**
 * Chromium's crash handler is double-forked, so it is no descendant of the browser and outlives
 * it for a moment; it names the profile or config directory, which is how it is found.
 */
async function reapHelpers(dirs: readonly string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const left = (await Promise.all(dirs.map(processesMentioning))).flat().filter(isAlive);
    if (left.length === 0 || Date.now() > deadline) {
      return;
    }
    left.forEach((p) => signalProcess(p, 'SIGKILL'));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
