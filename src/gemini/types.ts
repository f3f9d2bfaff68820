/**
 * Public types of the Gemini web client. Wire shapes stay in wire.ts; these are what the rest of
 * the service sees.
 */

/** A browser cookie, as Playwright and cookie_cache.json carry it. */
export interface Cookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  /** Unix seconds; -1 or absent for a session cookie. */
  expires?: number;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
}

/**
 * Where the client gets the account's cookies. The file source reads cookie_cache.json; the
 * browser source (src/browser) reads the live Chrome over CDP.
 */
export interface CookieSource {
  /** The current Google cookies (domain .google.com and friends). */
  getCookies(): Promise<Cookie[]>;
  /** Drops any cached copy: the next getCookies reads afresh. Called on an auth failure. */
  invalidate(): void;
  /**
   * Tries to heal the session after an auth failure (the browser reloads its tab); resolves once
   * fresh cookies can be read. The file source only re-reads its file.
   */
  refresh(): Promise<void>;
  /**
   * Cookies that arrived in a Set-Cookie from Google. Resolves once getCookies serves them; the
   * write-back (browser, cookie_cache.json) may finish later, off the request's latency path.
   */
  absorb(cookies: Cookie[]): Promise<void>;
}

/** Conversation position in Gemini: what a follow-up turn sends back. */
export interface ChatMetadata {
  cid: string;
  rid: string;
  rcid: string;
  /** inner[25]: the context token, metadata slot 9. */
  contextToken?: string;
}

/** A model the worker exposes, and how it is selected upstream. */
export interface ModelSpec {
  /** The OpenAI-facing name, e.g. `gemini-2.5-flash`. */
  name: string;
  /** Value of `x-goog-ext-525001261-jspb`; null for the server's default model. */
  header: string | null;
  /** Whether the model streams thoughts. */
  thinking: boolean;
  /** Other names that select this model (case-insensitive), e.g. `default`, `gemini-pro`. */
  aliases?: readonly string[];
  /** One line for /v1/models and the dashboard. */
  description?: string;
}

/** The models a worker serves now: the code table, or what its account offers (discovery). */
export interface ModelCatalog {
  /** Every model, in the order /v1/models lists them. */
  list(): readonly ModelSpec[];
  /** A model by name or alias, case-insensitively; undefined when this account lacks it. */
  find(name: string): ModelSpec | undefined;
}

/** A file already pushed to content-push. */
export interface UploadedFile {
  fileId: string;
  fileName: string;
}

/**
 * How far one StreamGenerate send got before it failed. The first three prove that Google did not
 * take the prompt; `no_response` and `after_accept` mean it may have (DESIGN.md, at most once).
 */
export type SendStage =
  /** The connection failed before any response. */
  | 'before_response'
  /** An HTTP error status arrived before any body. */
  | 'http_status'
  /** An in-band error rejected the request before any candidate (1013, 1097, 1037…). */
  | 'rejected_before_generation'
  /** The request went out and nothing answered within the stall timeout. */
  | 'no_response'
  /** 200 OK, then a stall, a cut, a candidate and an error, or an error that rejects nothing. */
  | 'after_accept';

/** What became of one StreamGenerate send; the label of `gk_upstream_sends_total`. */
export type SendOutcome =
  | 'accepted'
  | 'failed_before_response'
  | 'http_error'
  | 'rejected_before_generation'
  | 'no_response'
  | 'cut_after_accept'
  | 'aborted';

/** Every SendOutcome, for metrics and validation. */
export const SEND_OUTCOMES: readonly SendOutcome[] = [
  'accepted',
  'failed_before_response',
  'http_error',
  'rejected_before_generation',
  'no_response',
  'cut_after_accept',
  'aborted',
];

/**
 * Polices the StreamGenerate sends of one request. The client opens it right before each send
 * (it may refuse by throwing), and closes it with the outcome once the send has ended.
 */
export interface SendGate {
  /**
   * Resolves once the request may reach Google at all (its account's line and admission are its
   * own); throws (an AppError) when it may not. The client awaits it before loading a session,
   * so that it can build a request while the line is still being taken. Absent: at once.
   */
  ready?(): Promise<void>;
  /** Resolves when one more send may go out; throws (an AppError) when it must not. */
  open(): Promise<void>;
  /** Whether another send would be allowed now (the client asks before its own retries). */
  canResend(): boolean;
  /** The send just made ended so. */
  close(outcome: SendOutcome): void;
}

/** One turn to send to Gemini. */
export interface GenerateRequest {
  prompt: string;
  model: ModelSpec;
  files?: UploadedFile[];
  /** Continue this chat; absent for a new chat. */
  chat?: ChatMetadata | null;
  signal?: AbortSignal;
  /** Counts and may refuse each send; absent: no limit (tools, tests). */
  gate?: SendGate;
}

/** An image from the web that Gemini cited; a public URL. */
export interface WebImage {
  kind: 'web';
  url: string;
  alt: string;
  title: string;
}

/** An image Gemini generated. */
export interface GeneratedImage {
  kind: 'generated';
  /** gg-dl URL; fetching it needs the account's cookies. */
  url: string;
  alt: string;
  imageId: string | null;
  /** Set once the worker downloaded it (in the account's line): its path in the image store. */
  stored?: string | null;
}

/** Any image in an answer. */
export type ResponseImage = WebImage | GeneratedImage;

/** What a StreamGenerate call yields, in order. Text and thoughts are deltas, never snapshots. */
export type GenerateEvent =
  | { type: 'text'; delta: string }
  | { type: 'thought'; delta: string }
  | { type: 'metadata'; chat: ChatMetadata }
  | { type: 'done'; result: GenerateResult };

/** The whole answer, carried by the final `done` event. */
export interface GenerateResult {
  text: string;
  thoughts: string;
  images: ResponseImage[];
  chat: ChatMetadata | null;
  /** Display name of the model Gemini used, when it says. */
  modelName: string | null;
}

/**
 * Failure classes from DESIGN.md's table. The gemini client only classifies; the account layer
 * decides cooldowns and the API decides statuses.
 */
export type FailureKind =
  'quota' | 'ip_blocked' | 'auth' | 'transient' | 'model' | 'followup_rejected' | 'bad_request';
