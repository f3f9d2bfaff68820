/**
 * What the API needs from the layers below it. The composition root plugs in the account's
 * queue (which serializes, guards and retries per DESIGN.md) and the Gemini client.
 */
import type { GenerateEvent, UploadedFile } from '../gemini/index.ts';
import type { ChatJob } from '../queue/index.ts';

export type { ChatJob };

export interface ChatBackend {
  /** Runs one generation; yields deltas, then `done`. Throws AppErrors. */
  stream(job: ChatJob, signal: AbortSignal): AsyncIterable<GenerateEvent>;
}

/** Upstream file traffic that does not need the queue. */
export interface FileBackend {
  upload(
    data: Buffer,
    fileName: string,
    mimeType: string,
    signal?: AbortSignal,
  ): Promise<UploadedFile>;
  fetchImage(url: string, signal?: AbortSignal): Promise<{ data: Buffer; contentType: string }>;
}
