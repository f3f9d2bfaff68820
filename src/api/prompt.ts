/**
 * OpenAI messages -> one Gemini prompt. Gemini web takes a single text per turn, so system
 * instructions and earlier turns are folded into it (the format is documented in the README):
 *
 *   System instructions:
 *   <system and developer messages>
 *
 *   Conversation so far:
 *   [User]: …
 *   [Assistant]: …
 *
 *   [User]: <the last user turn>
 *
 * A lone user message goes up as it is. When the chat continues natively, only the last user
 * turn is sent: Gemini already holds the rest.
 */
import { InvalidRequestError } from '../errors.ts';
import { messageText, type ChatMessage } from './schemas.ts';

export interface PromptPlan {
  /** Messages before the last user message: the history a client sent. */
  readonly history: readonly ChatMessage[];
  readonly lastUser: ChatMessage;
  /** Sent when Gemini already holds the history (native continuation). */
  readonly turnPrompt: string;
  /** The whole conversation in one prompt, for a new chat or a replay. */
  readonly fullPrompt: string;
}

const LABEL: Record<ChatMessage['role'], string> = {
  system: 'System',
  developer: 'System',
  user: 'User',
  assistant: 'Assistant',
  tool: 'Tool',
};

/** Splits the messages and renders both prompts. The last message must come from the user. */
export function planPrompt(messages: readonly ChatMessage[]): PromptPlan {
  const lastUser = messages.at(-1);
  if (!lastUser || lastUser.role !== 'user') {
    throw new InvalidRequestError('The last message must have the role "user".', {
      param: 'messages',
    });
  }
  const history = messages.slice(0, -1);
  const turnPrompt = messageText(lastUser.content);
  const system = history.filter((m) => m.role === 'system' || m.role === 'developer');
  const turns = history.filter((m) => m.role !== 'system' && m.role !== 'developer');
  const sections: string[] = [];
  if (system.length > 0) {
    sections.push(
      `System instructions:\n${system.map((m) => messageText(m.content)).join('\n\n')}`,
    );
  }
  if (turns.length > 0) {
    const lines = turns.map((m) => `[${LABEL[m.role]}]: ${messageText(m.content)}`);
    sections.push(`Conversation so far:\n${lines.join('\n')}`);
  }
  const fullPrompt =
    sections.length === 0 ? turnPrompt : `${sections.join('\n\n')}\n\n[User]: ${turnPrompt}`;
  return { history, lastUser, turnPrompt, fullPrompt };
}
