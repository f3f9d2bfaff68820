/**
 * @module gemini
 * The Gemini web protocol client (docs/gemini-web-protocol.md). Pure: it takes an HTTP client and
 * a cookie source, and knows nothing of queues, accounts or browsers.
 */
export * from './types.ts';
export {
  GeminiError,
  isGeminiError,
  errorForCode,
  errorForStatus,
  ERROR_CODES,
  REJECTING_CODES,
  provenNotTaken,
  type GeminiErrorOptions,
} from './errors.ts';
export { DRIFT_KINDS, describeDrift, type DriftKind, type DriftSink } from './drift.ts';
export { readRpcReply } from './batchexecute.ts';
export { jspbAt, jspbNumber, jspbString } from './jspb.ts';
export {
  MODELS,
  DEFAULT_MODEL,
  findModel,
  modelHeader,
  MODEL_HEADER,
  KNOWN_MODEL_IDS,
  STATIC_MODEL_CATALOG,
} from './models.ts';
export { GeminiClient } from './client.ts';
export type { GeminiClientOptions } from './client-options.ts';
export type { FetchedImage } from './images.ts';
export type { GoogleTransport, TransportKind } from './transport.ts';
export { createNodeTransport, type NodeTransportOptions } from './node-transport.ts';
export {
  createHttpClient,
  readAll,
  BodyTooLargeError,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
} from './http.ts';
export {
  parseHostResolverRules,
  mapHost,
  type HostRule,
  type MappedAddress,
} from './host-rules.ts';
export { cookieHeader, parseSetCookies, mergeCookieLists } from './cookies.ts';
export { readFrames, type Frame } from './frames.ts';
export {
  createFrameParser,
  parseFrame,
  type FrameParser,
  type FramePart,
  type ParsedCandidate,
  type ParsedPayload,
} from './parse.ts';
export { ERROR_SHAPES, PAYLOAD_SHAPES, type ErrorShape, type PayloadShape } from './shapes.ts';
export { createDeltaTracker, type DeltaTracker } from './stream.ts';
export { isSorryUrl, scrapePage, type ScrapedPage, type SessionTokens } from './tokens.ts';
export { readPageModels, type PageModelLists } from './page-models.ts';
export {
  buildStreamGenerate,
  REQUEST_FORMS,
  type BuiltRequest,
  type RequestForm,
  type StreamGenerateInput,
} from './request.ts';
export {
  GEMINI_APP_URL,
  GOOGLE_HOME_URL,
  STREAM_GENERATE_URL,
  UPLOAD_URL,
  isGoogleHost,
} from './wire.ts';
