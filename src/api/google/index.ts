/**
 * @module api/google
 * The Gemini API (v1beta generateContent, streamGenerateContent, countTokens, models) over the
 * neutral core: request -> ChatTurn, answers -> GenerateContentResponse objects and chunks in
 * both stream framings, model resources, errors in Google's shape, and where the key comes
 * from. All pure but the routes (routes.ts, stream-writer.ts), which do the I/O.
 */
export {
  googleRouter,
  googleUpstreamDefault,
  modelActionHandler,
  MODEL_ACTION_PATH,
} from './routes.ts';
export { parseGenerateContentRequest } from './request.ts';
export type { GenerateContentRequest } from './request.ts';
export { openApiToJsonSchema } from './json-schema.ts';
export {
  functionCallPart,
  googleFinishReason,
  responseChunk,
  responseFromEvents,
  responseFromSummary,
  responseId,
  usageMetadata,
} from './response.ts';
export type { ResponseBase, TokenUsage } from './response.ts';
export { createStreamFramer, GenerateContentStreamWriter, streamFramingOf } from './stream.ts';
export type { StreamFramer, StreamFraming } from './stream.ts';
export {
  countGoogleTokens,
  googleModel,
  googleModelList,
  parseModelAction,
  SUPPORTED_METHODS,
} from './models.ts';
export type { GoogleModelInfo } from './models.ts';
export { googleKeyFrom, toGoogleError } from './errors.ts';
export { googleAnswerOf, googleKeyedMessages } from './history.ts';
export type { KeyedToolCall } from './history.ts';
export type * from './wire.ts';
