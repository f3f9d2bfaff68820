/**
 * tool_choice in neutral form, and the one-re-ask rule: when the answer ignored a `required` or
 * named choice, or a call failed its schema, the caller sends one follow-up (counted as a send)
 * built here; if that also fails, the caller answers with an error.
 */
import { InvalidRequestError } from '../../errors.ts';
import type { CallProblem } from './tool-calls.ts';
import { renderToolPrompt } from './tool-prompt.ts';
import type { ToolCall, ToolChoice, ToolDefinition } from './types.ts';

/** A tool_choice naming one tool; a name that is not among `tools` is a 400 on tool_choice. */
export function namedToolChoice(name: string, tools: readonly ToolDefinition[]): ToolChoice {
  if (!tools.some((t) => t.name === name)) {
    throw new InvalidRequestError(`tool_choice names '${name}', which is not among tools.`, {
      param: 'tool_choice',
    });
  }
  return { type: 'tool', name };
}

/** How a dialect words the 400 for a choice that forces a call when there is no tool to call. */
export interface ForcedChoiceWording {
  /** The field at fault, as the dialect spells it (`tool_choice`, `toolConfig…mode`). */
  readonly param: string;
  readonly message: string;
}

const NEUTRAL_WORDING: ForcedChoiceWording = {
  param: 'tool_choice',
  message: 'tool_choice requires a tool call, but no tools were given.',
};

/**
 * A choice that forces a call (`required`, or a named tool) needs a declared tool to call: with
 * none the model cannot comply, and its answer plus the one re-ask would be two sends for a 502.
 * Each dialect checks in its own words; the turn route checks every turn again before it is
 * queued (neutral words), so a dialect that forgets still answers a 400 that costs nothing.
 */
export function checkToolChoice(
  choice: ToolChoice,
  tools: readonly ToolDefinition[],
  wording: ForcedChoiceWording = NEUTRAL_WORDING,
): ToolChoice {
  if (choice.type === 'tool') {
    return namedToolChoice(choice.name, tools);
  }
  if (choice.type === 'required' && tools.length === 0) {
    throw new InvalidRequestError(wording.message, { param: wording.param });
  }
  return choice;
}

/** Whether the calls satisfy the choice (`none` and `auto` always are). */
export function choiceSatisfied(choice: ToolChoice, calls: readonly ToolCall[]): boolean {
  switch (choice.type) {
    case 'required':
      return calls.length > 0;
    case 'tool':
      return calls.some((c) => c.name === choice.name);
    default:
      return true;
  }
}

/** parallel_tool_calls=false keeps only the first call. */
export function applyParallel(calls: readonly ToolCall[], parallel: boolean): readonly ToolCall[] {
  return parallel ? calls : calls.slice(0, 1);
}

/** The follow-up prompt when the answer ignored a `required` or named choice. */
export function choiceReaskPrompt(
  tools: readonly ToolDefinition[],
  choice: ToolChoice,
  parallel: boolean,
): string {
  const demand =
    choice.type === 'tool'
      ? `Your previous answer did not call the tool ${choice.name}. Call it now.`
      : 'Your previous answer did not call any tool. Call one now.';
  return `${demand} Answer only with the tool-call block, in the form below.\n\n${renderToolPrompt(tools, choice, parallel)}`;
}

/** The follow-up prompt when calls failed to parse or to match their schema. */
export function repairPrompt(
  problems: readonly CallProblem[],
  tools: readonly ToolDefinition[],
  choice: ToolChoice,
  parallel: boolean,
): string {
  const lines = problems.map((p) => `- ${p.name ?? 'a call'}: ${p.errors.join('; ')}`);
  return [
    'Some tool calls in your previous answer could not be used:',
    ...lines,
    '',
    'Write the tool calls again, corrected, in the form below.',
    '',
    renderToolPrompt(tools, choice, parallel),
  ].join('\n');
}

/** Why a choice stays unmet after the one re-ask, for the caller's error message. */
export function unmetChoiceMessage(choice: ToolChoice): string {
  return choice.type === 'tool'
    ? `The model did not call the required tool ${choice.name}, even when asked again.`
    : 'The model did not call any tool, even when asked again (tool_choice requires one).';
}
