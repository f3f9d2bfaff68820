/**
 * @module http
 * Express pieces the worker and the gateway share: API-key auth, request ids, and the one
 * terminal error handler that renders every failure as OpenAI's error JSON.
 */
export { requireApiKey } from './api-key.ts';
export { errorHandler, normalizeError, notFound } from './error-handler.ts';
export { requestId, requestIdOf } from './request-id.ts';
