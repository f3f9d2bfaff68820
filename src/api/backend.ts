/**
 * What the API needs from the layers below it. The composition root plugs in the account's
 * queue, which serializes, guards and retries per DESIGN.md; uploads and image downloads run in
 * its jobs too, so the API itself never talks to Google.
 */
import type { GenerateEvent } from '../gemini/index.ts';
import type { ChatJob } from '../queue/index.ts';

export type { ChatJob };

export interface ChatBackend {
  /** Runs one generation; yields deltas, then `done`. Throws AppErrors. */
  stream(job: ChatJob, signal: AbortSignal): AsyncIterable<GenerateEvent>;
}
