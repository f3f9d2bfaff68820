/**
 * Helpers of the gateway chaos e2e test (e2e/chaos.test.ts).
 */
export {
  ALLOWED_KINDS,
  CHAOS_MODEL,
  describeViolations,
  runChat,
  type ChatOutcome,
  type OutcomeKind,
} from './chat-request.ts';
export { restartChromium, cookiesPersistedAt, type ChromeRestart } from './chrome-restart.ts';
export { createCleanup, type Cleanup } from './cleanup.ts';
export { ADMIN_HEADERS, CHAOS_KEYS } from './keys.ts';
export {
  gatewayHealth,
  startChaosCluster,
  stopChild,
  tcpReachable,
  waitForEligible,
  waitForServing,
  workerHealth,
  type ChaosCluster,
  type ChaosNode,
  type GatewayHealth,
  type WorkerHealth,
} from './cluster.ts';
export { createFaultSchedule, type ChaosFault, type FaultRun } from './fault-schedule.ts';
export { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
export { runLoad, type LoadOptions } from './load.ts';
export {
  formatReport,
  latencies,
  readGatewayCounters,
  type ChaosReport,
  type GatewayCounters,
} from './report.ts';
export { signInAsPerson } from './person.ts';
export { createScratchDatabase, type ScratchDatabase } from './scratch-database.ts';
export {
  counterByLabel,
  countOutcomes,
  errorsByPhase,
  isProvenRejection,
  tallyUpstream,
  type Phase,
  type UpstreamTally,
  type WorkerKill,
} from './tally.ts';
