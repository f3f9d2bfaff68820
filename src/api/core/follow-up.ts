/**
 * The one-re-ask rule in one place, so every dialect applies it alike. After an answer:
 * - calls that failed their schema (or were not JSON) -> re-ask with the errors;
 * - a `required` or named tool_choice that the answer ignored -> re-ask for the call;
 * - structured output that is not valid JSON for the format -> re-ask with the errors.
 * The re-ask goes up once, as a follow-up in the same chat, and counts as a send. If the
 * second answer fails too, the caller answers with an error carrying `message`.
 */
import type { AnswerSummary } from './answer-stream.ts';
import { parseStructured, structuredRepairPrompt } from './structured.ts';
import {
  choiceReaskPrompt,
  choiceSatisfied,
  repairPrompt,
  unmetChoiceMessage,
} from './tool-choice.ts';
import type { ChatTurn } from './types.ts';

/** What to do after an answer. `json` is the validated JSON text that replaces a structured answer. */
export type FollowUp =
  | { readonly kind: 'done'; readonly json: string | null }
  | { readonly kind: 'reask'; readonly why: FollowUpReason; readonly prompt: string }
  | { readonly kind: 'fail'; readonly why: FollowUpReason; readonly message: string };

/** Why an answer could not be used as it was. */
export type FollowUpReason = 'invalid_tool_call' | 'tool_choice_unmet' | 'invalid_json_output';

/**
 * Decides the next step for an answer. `reasked` says this answer already was the re-ask's.
 * An answer cut by a limit is never re-asked: the client asked for the cut.
 */
export function nextStep(turn: ChatTurn, summary: AnswerSummary, reasked: boolean): FollowUp {
  const limited = summary.reason === 'length' || summary.reason === 'stop_sequence';
  const problem = limited ? null : findProblem(turn, summary);
  if (problem === null) {
    return { kind: 'done', json: limited ? null : structuredJson(turn, summary) };
  }
  return reasked
    ? { kind: 'fail', why: problem.why, message: problem.message }
    : { kind: 'reask', why: problem.why, prompt: problem.prompt };
}

interface Problem {
  why: FollowUpReason;
  prompt: string;
  message: string;
}

function findProblem(turn: ChatTurn, summary: AnswerSummary): Problem | null {
  const { tools, toolChoice, parallelToolCalls } = turn;
  if (summary.problems.length > 0) {
    const details = summary.problems.map((p) => `${p.name ?? 'call'}: ${p.errors.join('; ')}`);
    return {
      why: 'invalid_tool_call',
      prompt: repairPrompt(summary.problems, tools, toolChoice, parallelToolCalls),
      message: `The model's tool call did not match its schema, even when asked again (${details.join(' | ')}).`,
    };
  }
  if (!choiceSatisfied(toolChoice, summary.calls)) {
    return {
      why: 'tool_choice_unmet',
      prompt: choiceReaskPrompt(tools, toolChoice, parallelToolCalls),
      message: unmetChoiceMessage(toolChoice),
    };
  }
  if (turn.responseFormat.type !== 'text' && summary.calls.length === 0) {
    const result = parseStructured(summary.text, turn.responseFormat);
    if (!result.ok) {
      return {
        why: 'invalid_json_output',
        prompt: structuredRepairPrompt(result.errors, turn.responseFormat),
        message: `The model's answer was not valid JSON for response_format, even when asked again (${result.errors.join('; ')}).`,
      };
    }
  }
  return null;
}

function structuredJson(turn: ChatTurn, summary: AnswerSummary): string | null {
  if (turn.responseFormat.type === 'text' || summary.calls.length > 0) {
    return null;
  }
  const result = parseStructured(summary.text, turn.responseFormat);
  return result.ok ? result.json : null;
}
