/**
 * OpenAI function tools (chat's `{type, function: {…}}` and responses' flat `{type, name, …}`)
 * -> neutral tool definitions; any other tool type is a 400 naming it.
 */
import type { z } from 'zod';
import { InvalidRequestError } from '../../errors.ts';
import type { ForcedChoiceWording, ToolDefinition } from '../core/index.ts';

/** The 400 for tool_choice `required` (or allowed_tools required) with no tool to call. */
export const REQUIRED_WITHOUT_TOOLS: ForcedChoiceWording = {
  param: 'tool_choice',
  message: "tool_choice 'required' needs at least one tool to call, but no tools were given.",
};

/** The fields of a function tool, wherever the dialect keeps them. */
export interface FunctionFields {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly parameters?: Readonly<Record<string, unknown>> | null | undefined;
}

/** Validates each tool against `schema` and reads its fields with `fieldsOf`. */
export function readFunctionTools<T>(
  tools: readonly { type: string }[],
  schema: z.ZodType<T>,
  fieldsOf: (tool: T) => FunctionFields,
): ToolDefinition[] {
  return tools.map((tool, i) => {
    const parsed = schema.safeParse(tool);
    if (!parsed.success) {
      const detail =
        tool.type === 'function'
          ? parsed.error.issues[0]?.message
          : `tools of type '${tool.type}' are not supported; only function tools are`;
      throw new InvalidRequestError(`tools[${i}]: ${detail ?? 'invalid tool'}`, {
        param: `tools[${i}]`,
      });
    }
    const fn = fieldsOf(parsed.data);
    return {
      name: fn.name,
      description: fn.description ?? '',
      parameters: fn.parameters ?? { type: 'object', properties: {} },
    };
  });
}
