/**
 * @module gateway/gateway
 * The gateway role's lifecycle: the registry reader, the undici pool to the workers, the HTTP
 * server, and a periodic prune of old conversation bindings. close() is idempotent and lets
 * answers in progress finish for a grace period before it cuts them.
 */
import http from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { Agent } from 'undici';
import type { Config } from '../config.ts';
import { KeyRing, checkAuthConfigured, trustProxyValue } from '../http/index.ts';
import { childLogger, registerSecret, type Logger } from '../logging.ts';
import { createGatewayApp } from './app.ts';
import { createGatewayServer } from './server.ts';
import { PgBindingStore } from './binding-store.ts';
import { NodeSource } from './node-source.ts';

/** Tunables of the Gateway; the defaults suit production. */
export interface GatewayOptions {
  /** Interface to listen on; all by default. */
  readonly host?: string;
  /** How often the registry is read (at most 1000). */
  readonly refreshMs?: number;
  /** Bindings untouched this long are deleted. */
  readonly bindingTtlMs?: number;
  /** How long close() waits for answers in progress (main.ts exits hard after 10 s). */
  readonly closeGraceMs?: number;
}

const HOUR_MS = 3_600_000;

/** The gateway: `await new Gateway(config, logger, pool).listen()`, then `close()`. */
export class Gateway {
  private readonly logger: Logger;
  private readonly nodes: NodeSource;
  private readonly agent: Agent;
  private readonly server: http.Server;
  private readonly bindings: PgBindingStore;
  private readonly keys: KeyRing;
  private stopWatchingKeys: (() => void) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    logger: Logger,
    pool: pg.Pool,
    private readonly options: GatewayOptions = {},
  ) {
    this.keys = new KeyRing(config, registerSecret);
    this.logger = childLogger(logger, 'gateway');
    this.nodes = new NodeSource(pool, this.logger, {
      refreshMs: options.refreshMs ?? 500,
      maxStaleMs: config.gateway.registryMaxStaleMs,
    });
    this.bindings = new PgBindingStore(pool, this.logger);
    // A worker holds its 200 until the first answer text, after its queue wait: be as patient.
    // Connections stay open between requests (up to what the worker's Keep-Alive allows); one
    // request per connection at a time, as a slow stream must never hold up a quick answer
    // behind it, and no cap on connections per worker, so 1 000 streams need no queue here.
    this.agent = new Agent({
      connect: { timeout: 3000 },
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
      connections: null,
      headersTimeout: config.requestTimeoutMs + config.queue.waitMs + 5000,
      bodyTimeout: config.stallTimeoutMs + 5000,
    });
    const app = createGatewayApp({
      nodes: this.nodes,
      bindings: this.bindings,
      logger: this.logger,
      dispatcher: this.agent,
      keys: this.keys,
      trustProxy: trustProxyValue(config.trustProxy),
      gateway: config.gateway,
      bodyLimitBytes: config.limits.bodyBytes,
    });
    this.server = createGatewayServer(app, this.keys);
  }

  /** Reads the registry once, then listens on config.port; resolves to the bound port. */
  async listen(): Promise<number> {
    if (this.closing) {
      throw new Error('the gateway is closed');
    }
    // No key and no ALLOW_NO_AUTH=1: refuse to serve at all.
    checkAuthConfigured(this.keys, (message) => this.logger.warn(message));
    this.stopWatchingKeys ??= this.keys.watch((counts) =>
      this.logger.info('API keys reloaded', counts),
    );
    await this.nodes.start();
    this.server.listen(this.config.port, this.options.host);
    await once(this.server, 'listening');
    this.pruneTimer = setInterval(() => void this.prune(), HOUR_MS);
    this.pruneTimer.unref();
    const port = this.port;
    this.logger.debug('gateway listening', { port });
    return port ?? 0;
  }

  /** The bound port, or null before listen(). */
  get port(): number | null {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address.port : null;
  }

  /** Stops accepting, waits up to closeGraceMs for answers in progress, then cuts them. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.pruneTimer) {
      clearInterval(this.pruneTimer);
    }
    this.stopWatchingKeys?.();
    await this.nodes.close();
    if (this.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      const grace = sleep(this.options.closeGraceMs ?? 8000, 'grace', { ref: false });
      if ((await Promise.race([closed, grace])) === 'grace') {
        this.server.closeAllConnections();
        await closed;
      }
    }
    await this.agent.destroy();
    // After the server: answers finishing in the grace period still queue their bindings.
    await this.bindings.close();
    this.logger.info('gateway closed');
  }

  private async prune(): Promise<void> {
    try {
      const deleted = await this.bindings.prune(this.options.bindingTtlMs ?? 7 * 24 * HOUR_MS);
      this.logger.debug('pruned conversation bindings', { deleted });
    } catch (err) {
      this.logger.warn('binding prune failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
