/**
 * GET /v1beta/models and /v1beta/models/{model} bodies, the `{model}:{method}` path segment,
 * and countTokens.
 */
import { InvalidRequestError } from '../../errors.ts';
import { countPromptTokens } from '../prompt-tokens.ts';
import { parseGenerateContentRequest } from './request.ts';

/** What this service knows of a model. */
export interface GoogleModelInfo {
  readonly id: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly inputTokenLimit?: number;
  readonly outputTokenLimit?: number;
}

/** The generation methods every model here serves. */
export const SUPPORTED_METHODS = [
  'generateContent',
  'streamGenerateContent',
  'countTokens',
] as const;

/** One Model resource, as GET /v1beta/models/{model} answers. */
export function googleModel(info: GoogleModelInfo): Record<string, unknown> {
  return {
    name: `models/${info.id}`,
    baseModelId: info.id,
    version: '001',
    displayName: info.displayName ?? info.id,
    description: info.description ?? `${info.id} over the Gemini web app.`,
    inputTokenLimit: info.inputTokenLimit ?? 1_048_576,
    outputTokenLimit: info.outputTokenLimit ?? 65_536,
    supportedGenerationMethods: [...SUPPORTED_METHODS],
  };
}

/** The GET /v1beta/models body. */
export function googleModelList(infos: readonly GoogleModelInfo[]): {
  models: Record<string, unknown>[];
} {
  return { models: infos.map(googleModel) };
}

/** `gemini-x:generateContent` (or `models/gemini-x:…`) -> model and method; 404-worthy methods are a 400 here. */
export function parseModelAction(segment: string): {
  readonly model: string;
  readonly method: (typeof SUPPORTED_METHODS)[number];
} {
  const match = /^(?:models\/)?([^:/]+):(\w+)$/.exec(segment);
  const method = SUPPORTED_METHODS.find((m) => m === match?.[2]);
  if (!match?.[1] || method === undefined) {
    throw new InvalidRequestError(
      `'${segment}' is not {model}:{method} with a method among ${SUPPORTED_METHODS.join(', ')}.`,
    );
  }
  return { model: match[1], method };
}

/** countTokens: `{contents}` or `{generateContentRequest}` -> `{totalTokens}` of the rendered prompt. */
export function countGoogleTokens(raw: unknown, model: string): { totalTokens: number } {
  const inner = (raw as { generateContentRequest?: unknown } | null)?.generateContentRequest;
  const request = parseGenerateContentRequest(inner ?? raw, model);
  return { totalTokens: countPromptTokens(request.turn) };
}
