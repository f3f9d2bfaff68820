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
import { planImages } from './image-notes.ts';
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

/**
 * The prompt in its sections, so that a prompt too long to send inline can go as a file while
 * the instruction blocks stay inline. `renderPrompt`'s text is the non-empty ones joined, in the
 * order system, instructions, conversation.
 */
export interface PromptParts {
  /** `System instructions:` and the system messages, or ''. */
  readonly system: string;
  /** The tool and output-format blocks, or '': how the model must answer. */
  readonly instructions: string;
  /** The conversation so far and the current turn (a lone user message as it is). */
  readonly conversation: string;
  /** Image references in upload order. */
  readonly images: readonly string[];
  /** Earlier images left out to stay within `maxImages`. */
  readonly omittedImages: number;
}

/** `continued`: Gemini holds the conversation up to the last assistant message. */
export interface RenderOptions {
  readonly continued: boolean;
  /**
   * The most images the prompt carries: all of the current turn's, then the most recent earlier
   * ones; each user message of a replay then gets a note naming its images. Default: no cap.
   */
  readonly maxImages?: number;
}

type UserMessage = Extract<TurnMessage, { role: 'user' }>;

/** Renders the prompt for one turn. Throws a 400 when nothing follows the last assistant message. */
export function renderPrompt(turn: ChatTurn, options: RenderOptions): RenderedPrompt {
  const parts = renderPromptParts(turn, options);
  return { text: joinPromptParts(parts), images: parts.images };
}

/** The text of prompt parts: the non-empty sections, in order. */
export function joinPromptParts(
  parts: Pick<PromptParts, 'system' | 'instructions' | 'conversation'>,
): string {
  return [parts.system, parts.instructions, parts.conversation]
    .filter((s) => s !== '')
    .join('\n\n');
}

/** The prompt for one turn in its sections (see PromptParts). */
export function renderPromptParts(turn: ChatTurn, options: RenderOptions): PromptParts {
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
  const imagePlan = planImages(
    options.continued ? currentInput : turn.messages,
    new Set(currentInput),
    options.maxImages,
  );
  const notes = imagePlan.notes;
  const lone = currentInput.length === 1 ? currentInput[0] : undefined;
  const conversation =
    system.length === 0 && history.length === 0 && blocks.length === 0 && lone?.role === 'user'
      ? userText(lone)
      : [
          ...(history.length > 0 ? [`Conversation so far:\n${renderHistory(history, notes)}`] : []),
          renderCurrent(currentInput, turn.messages, notes),
        ].join('\n\n');
  return {
    system:
      system.length > 0
        ? `System instructions:\n${system.map((m) => stripInstructionEcho(textOf(m))).join('\n\n')}`
        : '',
    instructions: blocks.join('\n\n'),
    conversation,
    images: imagePlan.images,
    omittedImages: imagePlan.omitted,
  };
}

type Notes = ReadonlyMap<TurnMessage, string>;
const NO_NOTES: Notes = new Map();

/** Earlier messages as conversation lines; tool calls in the protocol's form. */
export function renderHistory(messages: readonly TurnMessage[], notes: Notes = NO_NOTES): string {
  return messages.map((m) => renderMessage(m, messages, notes)).join('\n');
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

function renderCurrent(
  current: readonly TurnMessage[],
  all: readonly TurnMessage[],
  notes: Notes,
): string {
  const lines = current.map((m) => renderMessage(m, all, notes));
  if (current.at(-1)?.role === 'tool') {
    lines.push('', 'Use these tool results to continue: answer the user, or call tools again.');
  }
  return lines.join('\n');
}

function renderMessage(message: TurnMessage, all: readonly TurnMessage[], notes: Notes): string {
  switch (message.role) {
    case 'system':
      return `[System]: ${stripInstructionEcho(message.text)}`;
    case 'user': {
      const note = notes.get(message);
      return `[User]: ${stripInstructionEcho(userText(message))}${note ? `\n${note}` : ''}`;
    }
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
