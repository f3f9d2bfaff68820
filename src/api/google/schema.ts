/**
 * The generateContent body as this service accepts it (zod), after the Gemini API's v1beta
 * REST reference. Unknown fields pass. The REST API takes proto field names in snake_case as
 * well as camelCase; `camelizeRequest` turns the first into the second, leaving the client's
 * own names alone (function arguments, responses and schema property names).
 */
import { z } from 'zod';

const record = z.record(z.string(), z.unknown());
const part = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string().min(1) }).optional(),
  fileData: z
    .looseObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) })
    .optional(),
  functionCall: z
    .looseObject({ name: z.string().min(1), args: record.optional(), id: z.string().optional() })
    .optional(),
  functionResponse: z
    .looseObject({
      name: z.string().min(1),
      response: record.optional(),
      id: z.string().optional(),
    })
    .optional(),
});
/** One part of a request's content. */
export type RequestPart = z.infer<typeof part>;

const content = z.looseObject({
  role: z.enum(['user', 'model', 'function']).optional(),
  parts: z.array(part),
});
/** A function the client declares; `parameters` is an OpenAPI-style schema. */
export const functionDeclaration = z.looseObject({
  name: z
    .string()
    .regex(/^[\w.:-]{1,128}$/, 'a function name may hold only letters, digits, _ . : -'),
  description: z.string().optional(),
  parameters: record.optional(),
  parametersJsonSchema: record.optional(),
});

/** The generateContent / streamGenerateContent / countTokens body (unknown fields pass). */
export const generateContentRequestSchema = z.looseObject({
  contents: z.array(content).min(1, 'contents must hold at least one content'),
  systemInstruction: z
    .union([z.string(), content.extend({ role: z.string().optional() })])
    .optional(),
  tools: z
    .array(z.looseObject({ functionDeclarations: z.array(functionDeclaration).optional() }))
    .optional(),
  toolConfig: z
    .looseObject({
      functionCallingConfig: z
        .looseObject({
          mode: z.enum(['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED']).optional(),
          allowedFunctionNames: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  generationConfig: z
    .looseObject({
      stopSequences: z.array(z.string()).optional(),
      maxOutputTokens: z.number().int().positive().optional(),
      candidateCount: z.number().int().positive().optional(),
      responseMimeType: z.string().optional(),
      responseSchema: record.optional(),
      responseJsonSchema: record.optional(),
    })
    .optional(),
});

/** A validated generateContent body. */
export type GenerateContentBody = z.infer<typeof generateContentRequestSchema>;

/** Keys whose values are the client's own data: left exactly as sent. */
const OPAQUE = new Set(['args', 'response', 'responseJsonSchema', 'parametersJsonSchema']);

/** snake_case proto field names -> camelCase, recursively, except inside the client's own data. */
export function camelizeRequest(value: unknown, keepKeys = false): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => camelizeRequest(v));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const name = keepKeys ? key : key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      if (OPAQUE.has(name)) {
        return [name, v];
      }
      // A schema's `properties` map is keyed by the client's names; its values are schemas.
      return [name, name === 'properties' ? camelizeRequest(v, true) : camelizeRequest(v)];
    }),
  );
}
