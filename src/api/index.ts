/**
 * @module api
 * The worker's HTTP surface: OpenAI mapping, SSE, uploads, images, conversations, health, metrics.
 */
export { createWorkerHttp, type WorkerAppDeps, type WorkerHttp } from './app.ts';
export type { ChatBackend, ChatJob } from './backend.ts';
export { storeGeneratedImages, type ImageDeps } from './answer-images.ts';
export { readStagedInput, sweepStaleInputs } from './job-inputs.ts';
export { ConversationStore } from './conversations.ts';
export { createDrainSwitch, refuseWhileDraining, type DrainSwitch } from './drain.ts';
export { ImageStore } from './images.ts';
export type { AdminActions, Readiness, StatusSource } from './routes/status.ts';
export { createWorkerMetrics, type NodeState, type WorkerMetrics } from './metrics.ts';
export { fetchImageUrl, hostRulesResolver, type ResolveHost } from './safe-fetch.ts';
export { isPublicAddress, addressRange } from './address-policy.ts';
export { dialectOf, errorShaperFor, errorShaperOf, DIALECTS, type Dialect } from './dialects.ts';
export { googleModelList, parseModelAction } from './google/index.ts';
