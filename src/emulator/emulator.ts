/**
 * The Emulator: one HTTPS server standing in for Google's hosts (gemini, accounts, www,
 * content-push, the image hosts), dispatching by Host header, with a control surface for tests.
 */
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Cookie } from '../gemini/index.ts';
import { normalizeEmail } from './accounts.ts';
import { ensureTls } from './certs.ts';
import { wallClockMs, type FrameLogEntry } from './frame-log.ts';
import type { Tier } from './plans.ts';
import type { ControlTarget } from './control-api.ts';
import { createRequestListener } from './server.ts';
import { signInCookies, toCookie } from './session-cookies.ts';
import { applyTunables, createEmulatorState, type EmulatorState } from './state.ts';
import type { EmulatorOptions, Fault, TunableOptions, UpstreamRecord } from './types.ts';

/** The hosts Chromium and the worker's client are pointed at the emulator for. */
export const MAPPED_HOSTS: readonly string[] = [
  'gemini.google.com',
  'accounts.google.com',
  'www.google.com',
  'content-push.googleapis.com',
  '*.googleusercontent.com',
  '*.usercontent.google.com',
];

/** A running emulator. Start it with `Emulator.start`; `close()` is idempotent. */
export class Emulator {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: https.Server,
    private readonly sockets: Set<Socket>,
    private readonly state: EmulatorState,
    private readonly closeController: AbortController,
    /** The port it listens on (127.0.0.1). */
    readonly port: number,
    /** PEM of the CA, for NODE_EXTRA_CA_CERTS. */
    readonly caCertPath: string,
  ) {}

  /** Creates or reuses the CA in certDir, then listens on 127.0.0.1:port (0 = random). */
  static async start(options: EmulatorOptions): Promise<Emulator> {
    const tls = await ensureTls(options.certDir);
    const state = createEmulatorState(options, options.logger ?? null, tls.caCertPem);
    const closeController = new AbortController();
    const server = https.createServer({ key: tls.key, cert: tls.cert, handshakeTimeout: 10_000 });
    // Raw sockets are tracked so close() also cuts ones that never finished a TLS handshake.
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    let emulator: Emulator | null = null;
    const control = controlFor(tls.caCertPem, () => emulator);
    server.on('request', createRequestListener(state, control, closeController.signal));
    // A broken TLS handshake or socket must never take the process down.
    server.on('tlsClientError', () => undefined);
    server.on('clientError', (_err, socket) => socket.destroy());
    await listen(server, options.port ?? 0);
    const { port } = server.address() as AddressInfo;
    emulator = new Emulator(server, sockets, state, closeController, port, tls.caCertPath);
    state.logger?.debug('emulator: listening', { port, caCertPath: tls.caCertPath });
    return emulator;
  }

  /** Chromium `--host-resolver-rules` mapping every emulated host to 127.0.0.1:port. */
  hostResolverRules(): string {
    return MAPPED_HOSTS.map((h) => `MAP ${h} 127.0.0.1:${this.port}`).join(', ');
  }

  /** Makes (or returns) an account and a fresh signed-in session; the cookies a browser would hold. */
  createAccount(email: string): { email: string; cookies: Cookie[] } {
    const session = this.state.accounts.createSession(email);
    const now = this.state.now();
    const cookies = signInCookies(session.account, session).map((c) => toCookie(c, now));
    return { email: normalizeEmail(email), cookies };
  }

  /** Queues a fault for the account; `times` defaults to 1, Infinity lasts until cleared. */
  injectFault(email: string, fault: Fault, options?: { times?: number }): void {
    this.state.faults.inject(email, fault, options?.times ?? 1);
  }

  /** Drops pending faults of one account, or of all. */
  clearFaults(email?: string): void {
    this.state.faults.clear(email);
  }

  /** Everything received, in arrival order. */
  records(): UpstreamRecord[] {
    return this.state.records.list();
  }

  /** Forgets every record. */
  clearRecords(): void {
    this.state.records.clear();
  }

  /** When each StreamGenerate frame was written, for the last few hundred answers, oldest first. */
  frames(): FrameLogEntry[] {
    return this.state.frames.list();
  }

  /** Forgets every frame stamp. */
  clearFrames(): void {
    this.state.frames.clear();
  }

  /** Changes timings at once (rotation, PSIDTS lifetime, chunk delay). */
  setOptions(patch: Partial<TunableOptions>): void {
    applyTunables(this.state.tunables, patch);
  }

  /** Queues verbatim answers for the account's next generate requests (any account without one). */
  scriptAnswers(texts: readonly string[], email?: string): void {
    this.state.scripts.push(texts, email);
  }

  /** Drops every scripted answer. */
  clearScriptedAnswers(): void {
    this.state.scripts.clear();
  }

  /**
   * Sets the account's tier (its otAQ7b models, flags and header tail; null: untiered, every id)
   * and/or its otAQ7b status code (e.g. 1060; null: the usual 1000).
   */
  setPlan(email: string, plan: { tier?: Tier | null; statusCode?: number | null }): void {
    this.state.plans.set(email, plan);
  }

  /** Withdraws a model id from one account (or all): otAQ7b stops offering it, using it is 1052. */
  withdrawModel(modelId: string, email?: string): void {
    this.state.plans.withdraw(modelId, email);
  }

  /** Gives back every withdrawn model. */
  restoreModels(): void {
    this.state.plans.restore();
  }

  /** Stops listening and cuts every open connection (stalled streams included). */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.closeController.abort();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      this.sockets.forEach((socket) => socket.destroy());
    });
    return this.closing;
  }
}

/** The control API's view of the emulator, usable once `start` has built it. */
function controlFor(caCertPem: string, get: () => Emulator | null): ControlTarget {
  const started = (): Emulator => {
    const emulator = get();
    if (!emulator) {
      throw new Error('emulator is not started');
    }
    return emulator;
  };
  return {
    caCertPem,
    createAccount: (email) => started().createAccount(email),
    injectFault: (email, fault, options) => started().injectFault(email, fault, options),
    clearFaults: (email) => started().clearFaults(email),
    records: () => started().records(),
    clearRecords: () => started().clearRecords(),
    frames: () => started().frames(),
    clearFrames: () => started().clearFrames(),
    clockMs: wallClockMs,
    setOptions: (patch) => started().setOptions(patch),
    scriptAnswers: (texts, email) => started().scriptAnswers(texts, email),
    clearScriptedAnswers: () => started().clearScriptedAnswers(),
    setPlan: (email, plan) => started().setPlan(email, plan),
    withdrawModel: (modelId, email) => started().withdrawModel(modelId, email),
    restoreModels: () => started().restoreModels(),
  };
}

function listen(server: https.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
