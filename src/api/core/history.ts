/**
 * A neutral turn -> the one text Gemini web takes. The sections, each present only when needed:
 *
 *   System instructions:
 *   <system messages>
 *
 *   <the tool block>          (tool-prompt.ts)
 *   <the output-format block> (structured.ts)
 *
 *   Conversation so far:
 *   [User]: …
 *   [Assistant]: … followed by its calls, in the protocol's own form
 *   [Tool result: get_weather (call_…)]: a fenced block
 *
 *   <the current turn: everything after the last assistant message>
 *
 * A lone user message goes up as it is. A continued chat (Gemini already holds everything up
 * to the last assistant message) sends only the blocks and the current turn. Earlier calls are
 * written exactly as the model is asked to write them, so a multi-step loop reads naturally;
 * any echo of the instruction blocks is stripped from earlier messages.
 */
import { InvalidRequestError } from '../../errors.ts';
import { fenced } from './markdown.ts';
import { FORMAT_BEGIN, FORMAT_END, renderFormatPrompt } from './structured.ts';
import {
  RESULT_INFO,
  TOOLS_BEGIN,
  TOOLS_END,
  renderCall,
  renderToolPrompt,
} from './tool-prompt.ts';
import type { ChatTurn, TurnMessage } from './types.ts';

/** The prompt text and the images it carries (data:, http(s) or /upload references), in order. */
export interface RenderedPrompt {
  readonly text: string;
  readonly images: readonly string[];
}

/** `continued`: Gemini holds the conversation up to the last assistant message. */
export interface RenderOptions {
  readonly continued: boolean;
}

type UserMessage = Extract<TurnMessage, { role: 'user' }>;

/** Renders the prompt for one turn. Throws a 400 when nothing follows the last assistant message. */
export function renderPrompt(turn: ChatTurn, options: RenderOptions): RenderedPrompt {
  const lastAssistant = turn.messages.findLastIndex((m) => m.role === 'assistant');
  const earlier = turn.messages.slice(0, lastAssistant + 1);
  const current = turn.messages.slice(lastAssistant + 1);
  const currentInput = current.filter((m) => m.role !== 'system');
  if (currentInput.length === 0) {
    throw new InvalidRequestError(
      'The conversation must end with a user message or tool results.',
      { param: 'messages' },
    );
  }
  const system = (options.continued ? current : turn.messages).filter((m) => m.role === 'system');
  const history = options.continued ? [] : earlier.filter((m) => m.role !== 'system');
  const toolBlock = renderToolPrompt(turn.tools, turn.toolChoice, turn.parallelToolCalls);
  const blocks = [toolBlock, renderFormatPrompt(turn.responseFormat, toolBlock !== '')].filter(
    (b) => b !== '',
  );
  const images = (options.continued ? currentInput : turn.messages)
    .filter((m): m is UserMessage => m.role === 'user')
    .flatMap((m) => m.content.flatMap((p) => (p.type === 'image' ? [p.url] : [])));
  const lone = currentInput.length === 1 ? currentInput[0] : undefined;
  if (system.length === 0 && history.length === 0 && blocks.length === 0 && lone?.role === 'user') {
    return { text: userText(lone), images };
  }
  const sections = [
    ...(system.length > 0
      ? [`System instructions:\n${system.map((m) => stripInstructionEcho(textOf(m))).join('\n\n')}`]
      : []),
    ...blocks,
    ...(history.length > 0 ? [`Conversation so far:\n${renderHistory(history)}`] : []),
    renderCurrent(currentInput, turn.messages),
  ];
  return { text: sections.join('\n\n'), images };
}

/** Earlier messages as conversation lines; tool calls in the protocol's form. */
export function renderHistory(messages: readonly TurnMessage[]): string {
  return messages.map((m) => renderMessage(m, messages)).join('\n');
}

/** Removes any echo of the tool or output-format instruction block (escaped or not). */
export function stripInstructionEcho(text: string): string {
  let out = text;
  for (const [begin, end] of [
    [TOOLS_BEGIN, TOOLS_END],
    [FORMAT_BEGIN, FORMAT_END],
  ] as const) {
    out = out.replace(
      new RegExp(`${tolerant(begin)}[\\s\\S]*?(?:${tolerant(end)}|$)\\n*`, 'g'),
      '',
    );
  }
  return out.trim();
}

function renderCurrent(current: readonly TurnMessage[], all: readonly TurnMessage[]): string {
  const lines = current.map((m) => renderMessage(m, all));
  if (current.at(-1)?.role === 'tool') {
    lines.push('', 'Use these tool results to continue: answer the user, or call tools again.');
  }
  return lines.join('\n');
}

function renderMessage(message: TurnMessage, all: readonly TurnMessage[]): string {
  switch (message.role) {
    case 'system':
      return `[System]: ${stripInstructionEcho(message.text)}`;
    case 'user':
      return `[User]: ${stripInstructionEcho(userText(message))}`;
    case 'assistant': {
      const parts = [stripInstructionEcho(message.text), ...message.toolCalls.map(renderCall)];
      return `[Assistant]: ${parts.filter((p) => p !== '').join('\n')}`;
    }
    case 'tool': {
      const name = message.name ?? callName(all, message.callId) ?? 'tool';
      const label = message.isError ? 'Tool error' : 'Tool result';
      return `[${label}: ${name} (${message.callId})]:\n${fenced(message.content, RESULT_INFO)}`;
    }
  }
}

function callName(messages: readonly TurnMessage[], callId: string): string | undefined {
  for (const m of messages) {
    if (m.role === 'assistant') {
      const call = m.toolCalls.find((c) => c.id === callId);
      if (call) {
        return call.name;
      }
    }
  }
  return undefined;
}

function userText(message: UserMessage): string {
  return message.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
}

function textOf(message: TurnMessage): string {
  return message.role === 'system' ? message.text : '';
}

/** A regex source matching `marker` with an optional backslash before each punctuation mark. */
function tolerant(marker: string): string {
  return Array.from(marker)
    .map((c) => (/[A-Za-z0-9 ]/.test(c) ? c : `\\\\?\\${c}`))
    .join('');
}
