/**
 * What the API needs from the layers below it. The composition root plugs in the account's
 * queue (which serializes, guards and retries per DESIGN.md) and the Gemini client.
 */
import type { ChatMetadata, GenerateEvent, ModelSpec, UploadedFile } from '../gemini/index.ts';

/** One generation, as it crosses the queue: plain data, never cookies. */
export interface ChatJob {
  requestId: string;
  model: ModelSpec;
  prompt: string;
  files: UploadedFile[];
  /** Continue this Gemini chat; null starts a new one. */
  chat: ChatMetadata | null;
  /** The whole conversation as one prompt, used if Gemini rejects the follow-up (1097). */
  replayPrompt: string | null;
}

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
