/**
 * The deterministic answers: `Echo (turn N): <prompt>`, an acknowledgement of attached files,
 * and a line of emoji and CJK so that a client counting bytes instead of UTF-16 units breaks.
 * Prompts that ask for an image or a card get the matching placeholders; prompts with the
 * API's tool or output-format block get a protocol answer (tool-answers.ts).
 */
import { planProtocolAnswer } from './tool-answers.ts';

/** A file as the answer acknowledges it. */
export interface ReceivedFile {
  name: string;
  mimeType: string;
  bytes: number;
}

/** The answer's extra parts, besides text. */
export interface AnswerPlan {
  /** Markdown for cand[1][0] (a placeholder for card answers). */
  text: string;
  /** The real text of a card answer (cand[22][0]); null otherwise. */
  cardText: string | null;
  /** Thoughts (cand[37][0][0]) for thinking models; null otherwise. */
  thoughts: string | null;
  generatedImage: boolean;
  webImage: boolean;
  /** The chat title. */
  title: string;
}

/** What an answer depends on. */
export interface AnswerInput {
  prompt: string;
  turn: number;
  files: readonly ReceivedFile[];
  thinking: boolean;
  /** The prompts of the chat's earlier turns, oldest first. */
  earlierPrompts?: readonly string[];
}

/** The multi-byte tail every answer ends with. */
export const ANSWER_TAIL = '— 你好，世界 🌍✨';
const GENERATED_PLACEHOLDER = 'http://googleusercontent.com/image_generation_content/0';
const CARD_PLACEHOLDER = 'http://googleusercontent.com/card_content/0';

/** Plans the answer to one turn. */
export function planAnswer(input: AnswerInput): AnswerPlan {
  const generatedImage = /\b(draw|generate an image|image of)\b/i.test(input.prompt);
  const webImage = /\bsearch images?\b|\bshow me a picture\b/i.test(input.prompt);
  const protocol = planProtocolAnswer(input.prompt, input.earlierPrompts ?? []);
  if (protocol !== null) {
    return {
      text: protocol,
      cardText: null,
      thoughts: input.thinking ? thoughtsFor(input) : null,
      generatedImage: false,
      webImage: false,
      title: titleFor(input.prompt),
    };
  }
  const card = /\bcard\b/i.test(input.prompt);
  const lines = [`Echo (turn ${input.turn}): ${input.prompt}`];
  if (input.files.length > 0) {
    const list = input.files.map((f) => `${f.name} (${f.mimeType}, ${f.bytes} bytes)`);
    lines.push(`I received ${input.files.length} file(s): ${list.join(', ')}`);
  }
  if (generatedImage) {
    lines.push(GENERATED_PLACEHOLDER);
  }
  lines.push(ANSWER_TAIL);
  const body = lines.join('\n\n');
  return {
    text: card ? CARD_PLACEHOLDER : body,
    cardText: card ? body : null,
    thoughts: input.thinking ? thoughtsFor(input) : null,
    generatedImage,
    webImage,
    title: titleFor(input.prompt),
  };
}

/** Growing prefixes of `text`, cut at code points (never inside a surrogate pair). */
export function snapshots(text: string, count: number): string[] {
  const points = Array.from(text);
  const n = Math.max(1, Math.min(count, points.length));
  const out: string[] = [];
  for (let k = 1; k <= n; k += 1) {
    out.push(points.slice(0, Math.ceil((points.length * k) / n)).join(''));
  }
  return out;
}

/** How many snapshots an answer streams in: 4 to 8, fixed per prompt. */
export function snapshotCount(prompt: string): number {
  let sum = 0;
  for (const ch of prompt) {
    sum += ch.codePointAt(0) ?? 0;
  }
  return 4 + (sum % 5);
}

function thoughtsFor(input: AnswerInput): string {
  return `**Reading the request**\n\nThe user wrote “${input.prompt}” (turn ${input.turn}). I will echo it back. 🤔`;
}

function titleFor(prompt: string): string {
  const words = Array.from(prompt.replace(/\s+/g, ' ').trim()).slice(0, 40).join('');
  return words === '' ? 'New chat' : `Echo: ${words}`;
}
