/**
 * @module gateway
 * One OpenAI endpoint over every worker: node selection from gemini_service_nodes, a streaming
 * proxy with failover before the first byte, conversation affinity in PostgreSQL, /v1/models,
 * /health, /metrics and a status dashboard.
 */
export { Gateway, type GatewayOptions } from './gateway.ts';
export {
  createGatewayApp,
  createGatewayHandlers,
  type GatewayAppDeps,
  type GatewayHandlers,
} from './app.ts';
export { takeRelayed, type FastPath, type Taken } from './fast-path.ts';
export { createGatewayServer } from './server.ts';
export {
  historyKey,
  historyKeyAfter,
  historyKeys,
  hashMessages,
  historyBefore,
  messageText,
  continuesConversation,
  type HistoryKeys,
  type KeyedMessage,
} from '../history-key.ts';
export {
  pick,
  nodeState,
  isFresh,
  isCooling,
  servesModel,
  type PickOptions,
  type NodeState,
} from './balancer.ts';
export {
  decideFailover,
  classifyNetworkError,
  parseUpstreamSent,
  SHOULD_RETRY_HEADER,
  UPSTREAM_SENT_HEADER,
  type AttemptOutcome,
  type FailoverContext,
  type FailoverDecision,
  type FailoverReason,
  type NetworkClass,
  type UpstreamSent,
} from './failover.ts';
export {
  NodeSource,
  assertRoutable,
  toNodeRecord,
  DEFAULT_MAX_STALE_MS,
  type NodeSourceOptions,
} from './node-source.ts';
export { PgBindingStore, type PgBindingStoreOptions } from './binding-store.ts';
export { createInFlight, type InFlight } from './in-flight.ts';
export { createGatewayMetrics, type GatewayMetrics, type NodeGaugeSource } from './metrics.ts';
export type { NodeSummary, NodesReport, ModelEntry } from './node-summary.ts';
export { createConsole, type ConsoleState, type ConsoleNode } from './console/index.ts';
export type { Binding, BindingStore, NodeProvider, NodeRecord, RegistrySnapshot } from './types.ts';
