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

/** A file already pushed to content-push. */
export interface UploadedFile {
  fileId: string;
  fileName: string;
}

/** One turn to send to Gemini. */
export interface GenerateRequest {
  prompt: string;
  model: ModelSpec;
  files?: UploadedFile[];
  /** Continue this chat; absent for a new chat. */
  chat?: ChatMetadata | null;
  signal?: AbortSignal;
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
