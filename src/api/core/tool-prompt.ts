/**
 * The tool-call protocol as the model reads it.
 *
 * A call is one fenced code block whose info string is `tool-call`, holding one JSON object:
 *
 *     ```tool-call
 *     {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}
 *     ```
 *
 * Why this form, and not tags around per-argument fences (the best peer's form):
 * - Gemini web returns Markdown as its UI renders it. Outside code fences it escapes brackets,
 *   underscores and backticks and eats `*` and `_`; inside a fence the text arrives verbatim.
 *   Here everything that matters is inside the fence; only the fence itself is outside, and
 *   the parser accepts it escaped too (then it unescapes the body before reading the JSON).
 * - Valid JSON never contains a raw newline inside a string, so no line of it can consist of
 *   backticks alone: a JSON body can never close its fence early, whatever backtick runs its
 *   values hold. Tags with per-value fences need a fence length chosen per value instead.
 * - Argument types survive: numbers, booleans, arrays and objects stay JSON values, the very
 *   form every function-calling API (and OpenAI's `arguments`) uses, which models know well.
 * - One block per call makes parallel calls, streaming and history rendering uniform.
 * The instruction block is framed by marker lines so an echo of it can be stripped.
 */
import { parseJsonWithin } from '../../http/index.ts';
import { fenced } from './markdown.ts';
import type { ToolCall, ToolChoice, ToolDefinition } from './types.ts';

/** The info string that marks a call block. */
export const CALL_INFO = 'tool-call';
/** The info string of a tool result rendered into the prompt (never read as a call). */
export const RESULT_INFO = 'tool-result';
/** First line of the instruction block. */
export const TOOLS_BEGIN = '=== TOOLS ===';
/** Last line of the instruction block. */
export const TOOLS_END = '=== END OF TOOLS ===';

const EXAMPLE = '{"name": "tool_name", "arguments": {"param": "value", "count": 2}}';

/** The tools a choice exposes: none for `none`, only the named one for `tool`. */
export function toolsForChoice(
  tools: readonly ToolDefinition[],
  choice: ToolChoice,
): readonly ToolDefinition[] {
  if (choice.type === 'none') {
    return [];
  }
  return choice.type === 'tool' ? tools.filter((t) => t.name === choice.name) : tools;
}

/** The instruction block: the tools, the strict call form and the rules; '' when no tool is exposed. */
export function renderToolPrompt(
  tools: readonly ToolDefinition[],
  choice: ToolChoice,
  parallel: boolean,
): string {
  const exposed = toolsForChoice(tools, choice);
  if (exposed.length === 0) {
    return '';
  }
  const rules = [
    'Write one such block per call, the JSON object on its own lines inside the fence.',
    '"arguments" is a JSON object that matches the tool\'s parameter schema: numbers, booleans, ' +
      'arrays and objects as JSON values, not as strings; quotes, backslashes and line breaks ' +
      'inside strings escaped as JSON requires.',
    'Call only the tools listed above, by their exact names. Never invent results: they come ' +
      'back in the next message.',
    parallel
      ? 'To call several tools at once, write several blocks one after another.'
      : 'Call at most one tool per answer.',
    'You may write a short sentence before the blocks; write nothing after them.',
    choiceRule(choice),
  ];
  return [
    TOOLS_BEGIN,
    'You can call the following tools.',
    '',
    ...exposed.map(describeTool),
    'To call a tool, answer with a fenced code block whose info string is exactly ' +
      `${CALL_INFO}, holding one JSON object with "name" and "arguments":`,
    '',
    fenced(EXAMPLE, CALL_INFO),
    '',
    'Rules:',
    ...rules.map((rule, i) => `${i + 1}. ${rule}`),
    TOOLS_END,
  ].join('\n');
}

/** One call written in the protocol's form, as history shows it and the model writes it. */
export function renderCall(call: Pick<ToolCall, 'name' | 'arguments'>): string {
  let args: unknown;
  try {
    // Bounded: JSON.stringify below recurses, and too deep a value would overflow the stack.
    args = parseJsonWithin(call.arguments, 'arguments');
  } catch {
    args = call.arguments;
  }
  return fenced(JSON.stringify({ name: call.name, arguments: args }), CALL_INFO);
}

function describeTool(tool: ToolDefinition): string {
  const description = tool.description.trim() === '' ? '' : `: ${tool.description.trim()}`;
  return `- ${tool.name}${description}\n  Parameters (JSON schema): ${JSON.stringify(tool.parameters)}\n`;
}

function choiceRule(choice: ToolChoice): string {
  switch (choice.type) {
    case 'required':
      return 'You must call at least one tool in this answer.';
    case 'tool':
      return `You must call the tool ${choice.name} in this answer.`;
    default:
      return 'Call a tool only when it helps; otherwise answer normally, without any block.';
  }
}
