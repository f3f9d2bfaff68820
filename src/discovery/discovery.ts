/**
 * Model discovery: at start and every interval the worker asks its account (batchexecute otAQ7b)
 * for its tier, models and capacity tail, and serves that list. Until the first good answer, and
 * whenever the account's status is not 1000, the last good list (else the code table) stays.
 * While the account cools down or is signed out it does not ask: it would only add to the load
 * that caused the rest. Lifecycle: start(), close() (idempotent).
 */
import type { DriftSink, ModelCatalog, ModelSpec } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';
import { ACCOUNT_STATUS_MEANINGS, parseAccountStatus, type Tier } from './account-status.ts';
import { catalogOf, modelsFromStatus, tableModels, type CatalogModel } from './catalog.ts';

/** What discovery needs. */
export interface ModelDiscoveryOptions {
  /** One otAQ7b call through the account's client: `client.rpc('otAQ7b', [], signal)`. */
  readonly fetchStatus: (signal: AbortSignal) => Promise<unknown>;
  /** MODEL_DISCOVERY_INTERVAL_S; 0 asks once, at start. */
  readonly intervalMs: number;
  /** One ask longer than this fails. */
  readonly timeoutMs: number;
  /** False while the account may not be called (cooling down, signed out). */
  readonly mayCall?: () => boolean;
  readonly onDrift: DriftSink;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** What /health and the registry show of discovery. */
export interface DiscoveryReport {
  /** `discovered`: the list is the account's; `table`: the code table (no good answer yet). */
  readonly source: 'discovered' | 'table';
  readonly tier: Tier | null;
  readonly tail: number | null;
  readonly statusCode: number | null;
  readonly statusMeaning: string | null;
  /** Epoch ms of the last answer, good or not. */
  readonly checkedAt: number | null;
  readonly lastError: string | null;
  readonly models: readonly {
    readonly name: string;
    readonly aliases: readonly string[];
    readonly id: string | null;
    readonly displayName: string;
    readonly thinking: boolean;
  }[];
}

// After a failed ask, the next comes sooner than a whole interval.
const RETRY_AFTER_FAILURE_MS = 30_000;

/** The account's models, kept up to date; a ModelCatalog for the API. */
export class ModelDiscovery implements ModelCatalog {
  private catalog = catalogOf(tableModels());
  private source: DiscoveryReport['source'] = 'table';
  private tier: Tier | null = null;
  private tail: number | null = null;
  private statusCode: number | null = null;
  private checkedAt: number | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly lifetime = new AbortController();

  constructor(private readonly options: ModelDiscoveryOptions) {}

  /** Asks now, then every interval. */
  start(): void {
    if (this.timer === null && !this.lifetime.signal.aborted) {
      this.schedule(0);
    }
  }

  /** Asks the account now (concurrent calls share one ask); never throws. */
  refresh(): Promise<void> {
    this.inFlight ??= this.ask().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Every model the account offers now, default first. */
  list(): readonly ModelSpec[] {
    return this.catalog.list();
  }

  /** A model of this account by name or alias; undefined when it lacks it. */
  find(name: string): ModelSpec | undefined {
    return this.catalog.find(name);
  }

  /** The state for /health and the registry. */
  report(): DiscoveryReport {
    return {
      source: this.source,
      tier: this.tier,
      tail: this.tail,
      statusCode: this.statusCode,
      statusMeaning:
        this.statusCode === null ? null : (ACCOUNT_STATUS_MEANINGS[this.statusCode] ?? 'unknown'),
      checkedAt: this.checkedAt,
      lastError: this.lastError,
      models: this.catalog.list().map((m: CatalogModel) => ({
        name: m.name,
        aliases: m.aliases ?? [],
        id: m.upstreamId,
        displayName: m.displayName,
        thinking: m.thinking,
      })),
    };
  }

  /** Stops asking and aborts an ask in flight. */
  async close(): Promise<void> {
    this.lifetime.abort();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.inFlight;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.refresh().then(() => {
        const failed = this.lastError !== null;
        const every = this.options.intervalMs;
        if (!this.lifetime.signal.aborted && (every > 0 || failed)) {
          this.schedule(
            failed ? Math.min(every || RETRY_AFTER_FAILURE_MS, RETRY_AFTER_FAILURE_MS) : every,
          );
        }
      });
    }, delayMs);
    this.timer.unref();
  }

  private async ask(): Promise<void> {
    if (this.options.mayCall && !this.options.mayCall()) {
      return;
    }
    const signal = AbortSignal.any([
      this.lifetime.signal,
      AbortSignal.timeout(this.options.timeoutMs),
    ]);
    try {
      const payload = await this.options.fetchStatus(signal);
      this.apply(parseAccountStatus(payload, this.options.onDrift));
      this.lastError = null;
    } catch (err) {
      if (this.lifetime.signal.aborted) {
        return;
      }
      this.lastError = err instanceof Error ? err.message : String(err);
      this.options.logger.warn('model discovery failed; keeping the current list', {
        error: this.lastError,
      });
    }
  }

  private apply(status: ReturnType<typeof parseAccountStatus>): void {
    this.checkedAt = (this.options.now ?? Date.now)();
    this.statusCode = status.code;
    if (status.code !== 1000 || status.models.length === 0) {
      this.options.logger.warn('the account did not offer its models; keeping the current list', {
        statusCode: status.code,
        models: status.models.length,
      });
      return;
    }
    const before = this.catalog
      .list()
      .map((m) => m.name)
      .join(',');
    this.catalog = catalogOf(modelsFromStatus(status));
    this.source = 'discovered';
    this.tier = status.tier;
    this.tail = status.tail;
    const after = this.catalog
      .list()
      .map((m) => m.name)
      .join(',');
    if (after !== before) {
      this.options.logger.info('models discovered', { tier: status.tier, models: after });
    }
  }
}
