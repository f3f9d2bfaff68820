/** One chat request as the account's line carries it, from the HTTP side to runGuarded. */
import type { ChatMetadata, ModelSpec } from '../gemini/index.ts';

/** A file the job uploads before it sends: written to local disk by the HTTP side. */
export interface JobInput {
  /** Absolute path of the bytes (under DATA_DIR, shared by the account's processes). */
  readonly path: string;
  readonly fileName: string;
  readonly mimeType: string;
}

/** One chat request as it travels through the queue. Never carries cookies. */
export interface ChatJob {
  readonly requestId: string;
  readonly model: ModelSpec;
  readonly prompt: string;
  /** Files to push to content-push inside the account's line, before the first send. */
  readonly inputs: readonly JobInput[];
  /** Continue this chat; null for a new one. */
  readonly chat: ChatMetadata | null;
  /** The prompt that carries the whole history, used if Gemini rejects the follow-up (1097). */
  readonly replayPrompt: string | null;
  /**
   * The files the replay uploads instead of `inputs` (earlier turns' images, the current ones,
   * its prompt file), uploaded only if the replay happens; absent: `inputs`.
   */
  readonly replayInputs?: readonly JobInput[];
  /** The key id the answer's generated images belong to ('anonymous' when absent). */
  readonly owner?: string;
}
