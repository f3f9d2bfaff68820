/**
 * @module discovery
 * What the account itself says it has (otAQ7b): tier, models and capacity tail, refreshed on a
 * timer; the worker's model list comes from it. Also the protocol drift tally and the canary.
 */
export {
  ACCOUNT_STATUS_MEANINGS,
  parseAccountStatus,
  withPageThinking,
  type AccountStatus,
  type DiscoveredModel,
  type Tier,
} from './account-status.ts';
export {
  catalogOf,
  modelsFromPage,
  modelsFromStatus,
  tableModels,
  type CatalogModel,
} from './catalog.ts';
export { ModelDiscovery, type DiscoveryReport, type ModelDiscoveryOptions } from './discovery.ts';
export { createDriftTally, type DriftTally } from './drift-tally.ts';
export { Canary, CANARY_PROMPT, type CanaryOptions, type CanaryReport } from './canary.ts';
