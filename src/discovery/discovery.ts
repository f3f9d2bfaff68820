/**
 * Model discovery: at start and every interval the worker asks its account (batchexecute otAQ7b)
 * for its tier, models and capacity tail, and serves that list; the `/app` page's bootstrap lists
 * (`fast=…`, `thinking=…`) say which of them think. Until the first good answer, and whenever the
 * account's status is not 1000, the last good list stays; with none yet, the page's lists, else
 * the code table.
 * While the account cools down or is signed out it does not ask: it would only add to the load
 * that caused the rest. Lifecycle: start(), close() (idempotent).
 */
import type { DriftSink, ModelCatalog, ModelSpec, PageModelLists } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';
import {
  ACCOUNT_STATUS_MEANINGS,
  parseAccountStatus,
  withPageThinking,
  type Tier,
} from './account-status.ts';
import {
  catalogOf,
  modelsFromPage,
  modelsFromStatus,
  tableModels,
  type CatalogModel,
} from './catalog.ts';

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
  /** The model lists of the account's last `/app` page (`client.pageModels()`). */
  readonly pageModels?: () => PageModelLists | null;
  readonly onDrift: DriftSink;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** What /health and the registry show of discovery. */
export interface DiscoveryReport {
  /**
   * `discovered`: the list is otAQ7b's (thinking flags from the page when it lists them);
   * `page`: the page's lists alone (otAQ7b has not answered yet); `table`: the code table.
   */
  readonly source: 'discovered' | 'page' | 'table';
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
      const status = parseAccountStatus(payload, this.options.onDrift);
      this.apply(withPageThinking(status, this.options.pageModels?.() ?? null));
      this.lastError = null;
    } catch (err) {
      if (this.lifetime.signal.aborted) {
        return;
      }
      this.lastError = err instanceof Error ? err.message : String(err);
      this.options.logger.warn('model discovery failed; keeping the current list', {
        error: this.lastError,
      });
      this.fallBackToPage();
    }
  }

  /** Until otAQ7b has answered once, the page's lists beat the code table. */
  private fallBackToPage(): void {
    const lists = this.options.pageModels?.() ?? null;
    if (this.source === 'discovered' || lists === null) {
      return;
    }
    this.replaceCatalog(modelsFromPage(lists), 'page');
  }

  private apply(status: ReturnType<typeof parseAccountStatus>): void {
    this.checkedAt = (this.options.now ?? Date.now)();
    this.statusCode = status.code;
    if (status.code !== 1000 || status.models.length === 0) {
      this.options.logger.warn('the account did not offer its models; keeping the current list', {
        statusCode: status.code,
        models: status.models.length,
      });
      this.fallBackToPage();
      return;
    }
    this.tier = status.tier;
    this.tail = status.tail;
    this.replaceCatalog(modelsFromStatus(status), 'discovered');
  }

  private replaceCatalog(models: CatalogModel[], source: DiscoveryReport['source']): void {
    const names = () =>
      this.catalog
        .list()
        .map((m) => `${m.name}${m.thinking ? '*' : ''}`)
        .join(',');
    const before = names();
    this.catalog = catalogOf(models);
    this.source = source;
    const after = names();
    if (after !== before) {
      this.options.logger.info('models discovered', { source, tier: this.tier, models: after });
    }
  }
}
