/**
 * Upstream endpoints and fixed header values (protocol doc §2, §3, §6): snapshots that Google may
 * change, kept in one place. Never rewritten for tests: host resolver rules redirect connections.
 */

/** The preflight target: it sets NID/AEC. */
export const GOOGLE_HOME_URL = 'https://www.google.com/';
/** The Gemini web app's origin. */
export const GEMINI_ORIGIN = 'https://gemini.google.com';
/** The page whose WIZ_global_data holds the session tokens. */
export const GEMINI_APP_URL = `${GEMINI_ORIGIN}/app`;
/** The generation endpoint. */
export const STREAM_GENERATE_URL = `${GEMINI_ORIGIN}/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate`;
/** The RPC endpoint the app's init and history calls use. */
export const BATCH_EXECUTE_URL = `${GEMINI_ORIGIN}/_/BardChatUi/data/batchexecute`;
/** content-push, where files are uploaded. */
export const UPLOAD_URL = 'https://content-push.googleapis.com/upload';

/** `x-goog-ext-525005358-jspb`: the per-request UUID, equal to f.req slot 59. */
export const REQUEST_UUID_HEADER = 'x-goog-ext-525005358-jspb';
/** Headers v2 sends together with the model selector. */
export const MODEL_COMPANION_HEADERS: Readonly<Record<string, string>> = {
  'x-goog-ext-73010989-jspb': '[0]',
  'x-goog-ext-73010990-jspb': '[0]',
};

/** What a desktop Chrome sends on every request; plain clients are reportedly blocked more. */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent':
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/145.0.0.0 Safari/537.36',
  'accept-language': 'en-US,en;q=0.9',
};

/** Origin and Referer of the Gemini web app. */
export const GEMINI_PAGE_HEADERS: Readonly<Record<string, string>> = {
  origin: GEMINI_ORIGIN,
  referer: `${GEMINI_ORIGIN}/`,
};

const GOOGLE_HOST_RE = /(^|\.)(google\.com|googleapis\.com|googleusercontent\.com)$/i;

/** Whether a host is Google's: only these may set the account's cookies. */
export function isGoogleHost(hostname: string): boolean {
  return GOOGLE_HOST_RE.test(hostname);
}
