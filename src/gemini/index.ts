/**
 * @module gemini
 * The Gemini web protocol client (docs/gemini-web-protocol.md). Pure: it takes an HTTP client and
 * a cookie source, and knows nothing of queues, accounts or browsers.
 */
export * from './types.ts';
export { GeminiError, isGeminiError, type GeminiErrorOptions } from './errors.ts';
