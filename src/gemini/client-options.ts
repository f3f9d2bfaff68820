/**
 * What a GeminiClient is built from: the account's HTTP client and cookies, its limits, and the
 * transport and protocol choices the worker's configuration makes.
 */
import type { Logger } from '../logging.ts';
import type { DriftSink } from './drift.ts';
import type { HttpClient } from './http.ts';
import type { RequestForm } from './request.ts';
import type { GoogleTransport } from './transport.ts';
import type { CookieSource } from './types.ts';

/** What a GeminiClient is built from. */
export interface GeminiClientOptions {
  readonly http: HttpClient;
  readonly cookies: CookieSource;
  readonly logger: Logger;
  /** Upstream silence longer than this fails a call as transient ("stalled"). */
  readonly stallTimeoutMs: number;
  /** `hl` and the prompt language slot; defaults to the page's language, else `en`. */
  readonly language?: string;
  /** Largest image fetchImage accepts (default 32 MiB). */
  readonly maxImageBytes?: number;
  /** Carries /app, StreamGenerate and uploads (default: node over `http`, as images always are). */
  readonly transport?: GoogleTransport;
  /** Told of every reply shape the parsers do not know (gk_protocol_drift_total). */
  readonly onDrift?: DriftSink;
  /** StreamGenerate's inner array form (GEMINI_REQUEST_FORM): 69 (default) or 102 slots. */
  readonly requestForm?: RequestForm;
}
