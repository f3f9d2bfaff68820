/**
 * The Gemini API's response shapes (v1beta REST, JSON in camelCase) as this service writes
 * them. Written here rather than imported from @google/genai, whose enums (FinishReason) are
 * runtime values and whose GenerateContentResponse is a class; the tests check these shapes
 * by running them through that SDK.
 */

/** A function call the model made; `args` is the parsed arguments object. */
export interface GoogleFunctionCall {
  /** The call's id, which the client's functionResponse and resent history carry back. */
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

/** One part of a model answer: text (a thought when `thought`), or a function call. */
export type GooglePart = { text: string; thought?: true } | { functionCall: GoogleFunctionCall };

/** Why a candidate ended (only those this service produces). */
export type GoogleFinishReason = 'STOP' | 'MAX_TOKENS';

/** Token counts, as usageMetadata. */
export interface GoogleUsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  thoughtsTokenCount?: number;
}

/** One candidate: the model's content, its finish reason once it has one. */
export interface GoogleCandidate {
  content: { role: 'model'; parts: GooglePart[] };
  finishReason?: GoogleFinishReason;
  index: number;
}

/** A GenerateContentResponse, whole or one streamed chunk of it. */
export interface GenerateContentResponse {
  candidates: GoogleCandidate[];
  usageMetadata?: GoogleUsageMetadata;
  modelVersion: string;
  responseId: string;
}

/** Google's error body. */
export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    status: string;
    details?: { '@type': string; retryDelay?: string }[];
  };
}
