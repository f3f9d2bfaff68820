/**
 * @module http
 * Express pieces the worker and the gateway share: API keys and roles, request ids, how express
 * reads a URL (for the fast paths in front of it), the bound on how deep client JSON may nest, and
 * the one terminal error handler that renders every failure in the client dialect's error JSON.
 */
export {
  authenticate,
  callerOf,
  headerKey,
  mayAccess,
  peekCaller,
  presentedKey,
  requireAdmin,
} from './auth.ts';
export { refuseDeclaredOversize } from './body-limit.ts';
export {
  MAX_JSON_DEPTH,
  assertJsonDepth,
  jsonDepth,
  jsonTooDeepMessage,
  nestsTooDeep,
  parseJsonWithin,
  refuseDeepJsonBody,
} from './json-depth.ts';
export { plainUrl, routeParam, type PlainUrl } from './express-url.ts';
export {
  errorHandler,
  normalizeError,
  notFound,
  renderError,
  type ErrorShaper,
} from './error-handler.ts';
export {
  ANONYMOUS,
  KeyRing,
  NoApiKeyError,
  checkAuthConfigured,
  keyIdOf,
  parseKeyFile,
  type Caller,
  type KeyRole,
  type KeySources,
} from './key-ring.ts';
export { requestId, requestIdOf } from './request-id.ts';
export { trustProxyValue } from './trust-proxy.ts';
