/**
 * The token count of the prompt a turn would send, for the dialects' count-tokens endpoints
 * and usage: the rendered text (tool and format blocks included) plus a fixed cost per image.
 */
import { estimateTokens, renderPrompt, type ChatTurn, type TokenCounter } from './core/index.ts';

/** An image counts as Gemini counts a small image. */
export const IMAGE_TOKENS = 258;

/** Tokens of the whole prompt for `turn`, sent as a new chat. */
export function countPromptTokens(turn: ChatTurn, count: TokenCounter = estimateTokens): number {
  const prompt = renderPrompt(turn, { continued: false });
  return count(prompt.text) + IMAGE_TOKENS * prompt.images.length;
}
