/**
 * @module registry
 * PostgreSQL: the gemini_service_nodes schema (migrations) and this node's heartbeat into it.
 */
export { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
export {
  MIGRATIONS_DIR,
  listMigrations,
  migrate,
  type MigrateOptions,
  type Migration,
} from './migrate.ts';
export {
  nodeStatus,
  type NodeIdentity,
  type NodeModel,
  type NodeSnapshot,
  type NodeStatus,
} from './node-status.ts';
export { listNodes, upsertNode, type NodeRow } from './nodes.ts';
export { createPool, type PoolOptions } from './pool.ts';
