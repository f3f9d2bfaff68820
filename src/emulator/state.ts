/**
 * Everything an emulator remembers, in one object the routes share: accounts, faults, records,
 * chats, uploads, generated images and the options that can change while it runs.
 */
import type { Logger } from '../logging.ts';
import { createAccountStore, type AccountStore } from './accounts.ts';
import { createChatStore, type ChatStore } from './chats.ts';
import { createFaultStore, type FaultStore } from './faults.ts';
import { createFrameLog, type FrameLog } from './frame-log.ts';
import { createPlanStore, type PlanStore } from './plans.ts';
import { createRecordStore, type RecordStore } from './records.ts';
import { createScriptStore, type ScriptStore } from './scripted-answers.ts';
import type { TunableOptions } from './types.ts';

/** The tunable options with their defaults applied. */
export type Tunables = Required<TunableOptions>;

/** Defaults from the brief. */
export const DEFAULT_TUNABLES: Readonly<Tunables> = {
  psidtsTtlMs: 30 * 60_000,
  rotateIntervalMs: 600_000,
  rotateMinIntervalMs: 60_000,
  chunkDelayMs: 30,
};

/** A file pushed to content-push. */
export interface UploadedFileInfo {
  fileId: string;
  name: string;
  mimeType: string;
  bytes: number;
}

/** A generated image, fetchable with its owner's cookies. */
export interface GeneratedImageInfo {
  imageId: string;
  email: string;
}

/** The shared state. */
export interface EmulatorState {
  readonly tunables: Tunables;
  readonly accounts: AccountStore;
  readonly faults: FaultStore;
  /** Tiers, status codes and withdrawn models per account. */
  readonly plans: PlanStore;
  readonly records: RecordStore;
  /** When each StreamGenerate frame went out, for the last few hundred answers. */
  readonly frames: FrameLog;
  readonly chats: ChatStore;
  readonly scripts: ScriptStore;
  readonly uploads: Map<string, UploadedFileInfo>;
  readonly images: Map<string, GeneratedImageInfo>;
  readonly logger: Logger | null;
  readonly caCertPem: string;
  now(): number;
}

/** Fresh state. */
export function createEmulatorState(
  tunables: Partial<TunableOptions>,
  logger: Logger | null,
  caCertPem: string,
): EmulatorState {
  const now = (): number => Date.now();
  const resolved: Tunables = { ...DEFAULT_TUNABLES };
  applyTunables(resolved, tunables);
  return {
    tunables: resolved,
    accounts: createAccountStore({ now, psidtsTtlMs: () => resolved.psidtsTtlMs }),
    faults: createFaultStore(),
    plans: createPlanStore(),
    records: createRecordStore(now),
    frames: createFrameLog(),
    chats: createChatStore(now),
    scripts: createScriptStore(),
    uploads: new Map(),
    images: new Map(),
    logger,
    caCertPem,
    now,
  };
}

/** Copies the defined, valid values of `patch` into `target`; throws on a bad value. */
export function applyTunables(target: Tunables, patch: Partial<TunableOptions>): void {
  for (const key of Object.keys(DEFAULT_TUNABLES) as (keyof Tunables)[]) {
    const value = patch[key];
    if (value === undefined) {
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${key} must be a non-negative number of milliseconds`);
    }
    target[key] = value;
  }
}
