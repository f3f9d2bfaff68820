/**
 * @module account
 * One Google account's state (cooling down, signed out, half-open probe), shared through Redis and
 * kept in account_state.json, and the retry/cooldown policy around one generation.
 */
export { AccountState } from './account-state.ts';
export type { AccountStateOptions } from './account-state-options.ts';
export { retryAfterSeconds, type CooldownConfig } from './cooldown.ts';
export {
  MemoryAccountStore,
  RedisAccountStore,
  accountKeys,
  type AccountStore,
  type StoredAccount,
} from './account-store.ts';
export { ACCOUNT_STATE_FILE, readStateFile, stateFilePath, writeStateFile } from './state-file.ts';
export type { ChatJob, JobInput } from './chat-job.ts';
export { runGuarded, type Generate, type GuardDeps } from './run-guarded.ts';
export { runGuardedRpc, type CallRpc, type RpcGuardDeps } from './run-guarded-rpc.ts';
export { SendLedger, type SendLedgerOptions } from './send-ledger.ts';
export type {
  AccountGuard,
  AccountPhase,
  AccountSnapshot,
  Admission,
  ClaimedAccountRead,
  Cooldown,
  CooldownReason,
  LoginState,
} from './types.ts';
