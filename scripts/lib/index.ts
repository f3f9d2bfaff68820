/**
 * @module scripts/lib
 * The local stack behind `npm run stack`, and the local services (PostgreSQL, Redis, Chromium as
 * child processes) it shares with the e2e tests.
 */
export * from './local-services.ts';
export { LocalStack, type StackIo } from './local-stack.ts';
export {
  DEFAULT_PORT,
  DEFAULT_WORKERS,
  USAGE,
  UsageError,
  describePorts,
  parseStackArgs,
  portRange,
  stackPorts,
  type ParseContext,
  type ParsedStackArgs,
  type StackOptions,
  type StackPorts,
} from './stack-options.ts';
export { READY_LINE, readyReport, realSignInHints } from './stack-report.ts';
export {
  freeStackPort,
  spawnStack,
  type SpawnStackOptions,
  type StackChild,
} from './stack-child.ts';
export { stackLayout, type StackLayout } from './stack-layout.ts';
export { summarizeLogLine } from './node-role.ts';
export { signInWithEmulator, SIGN_IN_URL } from './emulator-sign-in.ts';
