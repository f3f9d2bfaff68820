/**
 * The local stack: PostgreSQL, Redis, the emulator (unless --real), one Chromium per worker, the
 * workers and the gateway, started in that order and stopped in reverse. If a child dies during
 * start-up, everything started so far is stopped and the error carries its last log lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findBinaries, type Binaries } from './binaries.ts';
import { signInWithEmulator } from './emulator-sign-in.ts';
import { ProcessExitedError, type ManagedProcess } from './managed-process.ts';
import { reapStale, writePidFile } from './pid-file.ts';
import { stackKeys, type StackKeys } from './stack-keys.ts';
import { isPortFree } from './ports.ts';
import { getJson, waitFor, waitForGatewayNodes, waitForHttpOk } from './readiness.ts';
import {
  accountOf,
  serviceUrls,
  stackLayout,
  type EmulatorLink,
  type StackLayout,
} from './stack-layout.ts';
import { describePorts, stackPorts, type StackOptions, type StackPorts } from './stack-options.ts';
import {
  Layer,
  browserStarters,
  databaseStarters,
  spawnGateway,
  spawnWorkers,
  startEmulatorPart,
  type Part,
  type PartContext,
} from './stack-parts.ts';

/** Where the stack reports progress. */
export interface StackIo {
  print(line: string): void;
}

const ROLE_START_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 120_000;

/** A local stack. `start()` once; `close()` and `kill()` are idempotent. */
export class LocalStack {
  /** Every port, derived from --port. */
  readonly ports: StackPorts;
  readonly layout: StackLayout;
  private readonly parts: Part[] = [];
  private readonly died = new AbortController();
  private phase: 'idle' | 'starting' | 'ready' | 'stopping' = 'idle';
  private closing: Promise<void> | null = null;
  private bins: Binaries | null = null;
  private apiKeys: StackKeys | null = null;
  private emulator: EmulatorLink | null = null;

  constructor(
    readonly options: StackOptions,
    private readonly io: StackIo,
    /** The repository root, where src/main.ts lives. */
    private readonly rootDir: string,
  ) {
    this.ports = stackPorts(options.port, options.workers);
    this.layout = stackLayout(options.dir);
  }

  /** The API keys every role got (known once start() has begun). */
  get keys(): StackKeys | null {
    return this.apiKeys;
  }

  /** Starts everything; on any failure stops what it started and throws. */
  async start(stop: AbortSignal): Promise<void> {
    this.phase = 'starting';
    const signal = AbortSignal.any([stop, this.died.signal]);
    try {
      await this.prepare();
      await this.step(signal, () => this.launch(databaseStarters(this.context())));
      this.io.print(
        `stack: PostgreSQL on 127.0.0.1:${this.ports.postgres} (cluster ${this.layout.pg}), Redis on 127.0.0.1:${this.ports.redis}`,
      );
      await this.step(signal, () => this.startEmulator());
      await this.step(signal, () => this.startBrowsers());
      await this.step(signal, () => this.signInBrowsers());
      await this.step(signal, () => this.startWorkers(signal));
      await this.step(signal, () => this.startGateway(signal));
      await this.step(signal, () => this.waitUntilServing(signal));
      this.phase = 'ready';
    } catch (err) {
      await this.close();
      throw this.died.signal.aborted ? this.died.signal.reason : err;
    }
  }

  /** Stops everything in reverse start order and waits for it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.phase = 'stopping';
      for (let layer = Layer.Gateway; layer >= Layer.Databases; layer -= 1) {
        const parts = this.parts.filter((p) => p.layer === layer);
        await Promise.all(parts.map((p) => p.stop().catch((err: unknown) => this.report(p, err))));
      }
      fs.rmSync(this.layout.pidFile, { force: true });
    })();
    return this.closing;
  }

  /** SIGKILL to everything at once (the second Ctrl-C). */
  async kill(): Promise<void> {
    this.phase = 'stopping';
    await Promise.all(this.parts.map((p) => p.kill().catch(() => undefined)));
    fs.rmSync(this.layout.pidFile, { force: true });
  }

  private report(part: Part, err: unknown): void {
    this.io.print(
      `stack: stopping ${part.name} failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  private context(): PartContext {
    if (!this.bins || !this.apiKeys) {
      throw new Error('the binaries and keys are looked up first, in prepare()');
    }
    return {
      options: this.options,
      ports: this.ports,
      layout: this.layout,
      bins: this.bins,
      rootDir: this.rootDir,
      emulator: this.emulator,
      echo: (line) => this.io.print(line),
      keys: this.apiKeys,
    };
  }

  private async step(signal: AbortSignal, run: () => Promise<void>): Promise<void> {
    signal.throwIfAborted();
    await run();
    signal.throwIfAborted();
  }

  private track(part: Part): void {
    this.parts.push(part);
    const child = part.child;
    if (child) {
      void child.exited.then(() => this.onChildExit(child));
    }
    const records = this.parts.flatMap((p) =>
      p.child ? [{ name: p.name, pid: p.child.pid, group: true }] : [],
    );
    writePidFile(this.layout.pidFile, records);
  }

  private onChildExit(child: ManagedProcess): void {
    if (this.phase === 'starting') {
      this.died.abort(new ProcessExitedError(child));
    } else if (this.phase === 'ready') {
      this.io.print(`stack: ${new ProcessExitedError(child).message}`);
      this.io.print('stack: the rest keeps running; Ctrl-C stops it all');
    }
  }

  /** Runs starters at once; tracks those that started even when another fails. */
  private async launch(starters: readonly (() => Promise<Part>)[]): Promise<void> {
    const results = await Promise.allSettled(starters.map((s) => s()));
    for (const r of results) {
      if (r.status === 'fulfilled') {
        this.track(r.value);
      }
    }
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      throw failed.reason;
    }
  }

  /** The stack's ports still in use after waiting up to `waitMs` for them to free. */
  private async busyPorts(waitMs: number): Promise<string[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const busy: string[] = [];
      for (const { name, port } of describePorts(this.ports, this.options.real)) {
        if (!(await isPortFree(port))) {
          busy.push(`${port} (${name})`);
        }
      }
      if (busy.length === 0 || Date.now() >= deadline) {
        return busy;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async prepare(): Promise<void> {
    this.bins = findBinaries(this.options.binaries);
    const { dir, logs } = this.layout;
    fs.mkdirSync(logs, { recursive: true });
    this.apiKeys = stackKeys(this.layout.keysFile);
    if (process.getuid?.() === 0) {
      // PostgreSQL runs as the postgres user and must be able to enter DIR to reach DIR/pg.
      fs.chmodSync(dir, fs.statSync(dir).mode | 0o001);
    }
    const stale = await reapStale(this.layout.pidFile);
    if (stale.length > 0) {
      this.io.print(
        `stack: stopped what an earlier stack in ${dir} left running: ${stale.join(', ')}`,
      );
    }
    rotateLogs(logs);
    // The kernel frees a killed process's ports a moment after it dies: give the reaped a while.
    const busy = await this.busyPorts(stale.length > 0 ? 10_000 : 0);
    if (busy.length > 0) {
      throw new Error(
        `ports in use: ${busy.join(', ')}; stop what holds them or move the stack with --port`,
      );
    }
  }

  private async startEmulator(): Promise<void> {
    if (this.options.real) {
      return;
    }
    const { part, link, port } = await startEmulatorPart(this.context());
    this.track(part);
    this.emulator = link;
    this.io.print(`stack: Gemini emulator on https://127.0.0.1:${port} (CA ${link.caCertPath})`);
  }

  private async startBrowsers(): Promise<void> {
    await this.launch(browserStarters(this.context()));
    const { display } = this.options;
    const mode = display === null ? 'headless' : `headed on DISPLAY ${display}`;
    this.io.print(
      `stack: ${this.ports.cdp.length} Chromium (${mode}), CDP on ${this.ports.cdp.join(', ')}`,
    );
  }

  private async signInBrowsers(): Promise<void> {
    if (this.options.real) {
      return;
    }
    const cdp = serviceUrls(this.ports).cdp;
    const emails = cdp.map((_, i) => accountOf(i + 1, false));
    await Promise.all(cdp.map((url, i) => signInWithEmulator(url, emails[i] ?? '')));
    this.io.print(`stack: signed the browsers in to the emulator as ${emails.join(', ')}`);
  }

  private async startWorkers(signal: AbortSignal): Promise<void> {
    for (const part of spawnWorkers(this.context())) {
      this.track(part);
    }
    const options = { timeoutMs: ROLE_START_TIMEOUT_MS, signal };
    const urls = serviceUrls(this.ports).workers;
    await Promise.all(urls.map((url) => waitForHttpOk(`${url}/health`, options)));
    this.io.print(`stack: workers listening on ${this.ports.workers.join(', ')}`);
  }

  private async startGateway(signal: AbortSignal): Promise<void> {
    this.track(spawnGateway(this.context()));
    const url = `${serviceUrls(this.ports).gateway}/health`;
    // /health answers 503 while no node is eligible; any JSON answer means it is up.
    await waitFor(async () => ((await getJson(url)) ? true : undefined), {
      timeoutMs: ROLE_START_TIMEOUT_MS,
      signal,
      describe: () => `the gateway did not answer ${url}`,
    });
  }

  private async waitUntilServing(signal: AbortSignal): Promise<void> {
    const urls = serviceUrls(this.ports);
    const eligible = !this.options.real;
    this.io.print(
      `stack: gateway on ${this.ports.gateway}; waiting until it lists every worker${eligible ? ' as eligible' : ''}…`,
    );
    await waitForGatewayNodes(urls.gateway, urls.workers, eligible, {
      timeoutMs: READY_TIMEOUT_MS,
      signal,
      adminKey: this.apiKeys?.adminApiKeys.split(',')[0]?.trim() ?? null,
    });
  }
}

/** Keeps the previous run's logs as `*.log.1`, so each run's files start empty. */
function rotateLogs(logs: string): void {
  for (const name of fs.readdirSync(logs)) {
    if (name.endsWith('.log')) {
      fs.renameSync(path.join(logs, name), path.join(logs, `${name}.1`));
    }
  }
}
