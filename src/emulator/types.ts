/**
 * Public types of the emulator: options, faults and the record of every upstream request.
 */
import type { Logger } from '../logging.ts';

/** How an emulator is started; only certDir is required. */
export interface EmulatorOptions {
  /** 0 = random free port (default 0). */
  port?: number;
  /** CA + leaf cert files live here; reused if present (ca.pem, ca-key.pem). */
  certDir: string;
  /** Silent if absent. */
  logger?: Logger;
  /** Lifetime of a __Secure-1PSIDTS value (default 30 min). */
  psidtsTtlMs?: number;
  /** How often the app page's rotation iframe calls RotateCookies (default 600_000). */
  rotateIntervalMs?: number;
  /** RotateCookies answers 429 if called sooner (default 60_000). */
  rotateMinIntervalMs?: number;
  /** Delay between cumulative frames (default 30). */
  chunkDelayMs?: number;
}

/** The options that can change while the emulator runs. */
export type TunableOptions = Pick<
  EmulatorOptions,
  'psidtsTtlMs' | 'rotateIntervalMs' | 'rotateMinIntervalMs' | 'chunkDelayMs'
>;

/** Failures an account can be made to suffer, consumed one per matching request. */
export type Fault =
  | 'usage_limit'
  | 'ip_blocked'
  | 'sorry'
  | 'transient'
  | 'model_invalid'
  | 'model_inconsistent'
  | 'followup_rejected'
  | 'http_429'
  | 'http_500'
  | 'http_401'
  | 'stall'
  | 'drop'
  | 'error_after_answer'
  /** 200 OK and the ids frame, then silence: accepted, no candidate yet. */
  | 'stall_before_answer'
  /** 200 OK and the ids frame, then the connection is cut. */
  | 'drop_before_answer'
  /** The first snapshot, then 1096 and a clean end: a part of the answer, never completed. */
  | 'error_mid_answer'
  /** The connection is cut before any response: Google never took the request. */
  | 'reset'
  /** StreamGenerate answers in a shape no parser knows (candidates as objects, a new envelope). */
  | 'unknown_shape'
  /** otAQ7b answers in a shape no parser knows (status and model list moved). */
  | 'status_shape'
  /** /app carries its model lists in a shape no parser knows (an object, not `fast=` strings). */
  | 'page_models_shape';

/** Every fault name, for validation. */
export const FAULTS: readonly Fault[] = [
  'usage_limit',
  'ip_blocked',
  'sorry',
  'transient',
  'model_invalid',
  'model_inconsistent',
  'followup_rejected',
  'http_429',
  'http_500',
  'http_401',
  'stall',
  'drop',
  'error_after_answer',
  'stall_before_answer',
  'drop_before_answer',
  'error_mid_answer',
  'reset',
  'unknown_shape',
  'status_shape',
  'page_models_shape',
];

/** What a recorded request was. */
export type RecordKind =
  | 'app'
  | 'generate'
  | 'upload'
  | 'image'
  | 'rotate'
  | 'signin'
  | 'signout'
  | 'list_accounts'
  | 'batchexecute'
  | 'preflight'
  | 'other';

/** One request the emulator received (the control API under /__emulator/ is not recorded). */
/** What an upload record tells about the file pushed. */
export interface UploadRecord {
  fileId: string;
  name: string;
  mimeType: string;
  bytes: number;
  /** sha256 hex of the bytes. */
  sha256: string;
  /** The content of a text/* file (up to 1 MiB), else absent. */
  text?: string;
}

export interface UpstreamRecord {
  seq: number;
  host: string;
  method: string;
  path: string;
  kind: RecordKind;
  /** The account the cookies identify, if any. */
  email: string | null;
  /** generate: the prompt text (f.req slot 0[0]). */
  prompt?: string;
  /** generate: the chat continued, if any. */
  cid?: string | null;
  /** generate: the reply the follow-up continues from (which turn of a branching chat). */
  rid?: string | null;
  /** generate: model id from the header, null for default. */
  model?: string | null;
  /** generate: files referenced. */
  fileIds?: string[];
  /** generate: the inner f.req array's length (69, or 81/102 in the newer forms). */
  requestSlots?: number;
  /** generate: slot 79, the model selector inside a newer-form request. */
  modelNumber?: number | null;
  /** upload: the file pushed, so a test can prove what went up (text kept for text files). */
  upload?: UploadRecord;
  /** The User-Agent it came with: tells a worker's own request from its Chrome's. */
  userAgent?: string | null;
  /** HTTP status sent. */
  status: number;
  /** The fault applied, if any. */
  fault?: Fault;
  /** ms epoch. */
  startedAt: number;
  /** ms epoch when the response finished or was aborted. */
  endedAt: number | null;
}
