/**
 * A prompt longer than the web app takes inline goes up as an attached text file, as the best
 * peers do: the body (system instructions, the conversation, the current turn) is uploaded as
 * `message.txt` like any other file, and the inline prompt says to read it and answer it. The
 * tool and output-format blocks stay inline, so the model still sees how it must answer; only
 * when those blocks alone are too long does everything go in the file.
 */
import { joinPromptParts, type PromptParts } from './core/index.ts';
import type { InputFile } from './inputs.ts';

/** The name the prompt file is uploaded under. */
export const PROMPT_FILE_NAME = 'message.txt';

/** The inline text that points the model at the file. */
export const PROMPT_FILE_NOTE =
  `The user's message is too long to send inline, so it is in the attached file ` +
  `${PROMPT_FILE_NAME}. Read all of it: it is the user's prompt for this turn (with the ` +
  'conversation so far, when there is one). Answer it directly, as if it had been typed here; ' +
  'do not describe or summarize the file unless it asks you to.';

const INSTRUCTIONS_IN_FILE =
  ' The instructions on how to answer are at the start of the file; follow them exactly.';

/** How a prompt goes up: the inline text, and the file that carries the rest (or null). */
export interface OutgoingPrompt {
  readonly text: string;
  readonly file: InputFile | null;
}

/** The prompt inline when it fits `inlineMaxChars`, else its body as message.txt. */
export function outgoingPrompt(parts: PromptParts, inlineMaxChars: number): OutgoingPrompt {
  const whole = joinPromptParts(parts);
  if (whole.length <= inlineMaxChars) {
    return { text: whole, file: null };
  }
  const inline = joinPromptParts({
    system: '',
    instructions: parts.instructions,
    conversation: PROMPT_FILE_NOTE,
  });
  if (parts.instructions !== '' && inline.length <= inlineMaxChars) {
    return { text: inline, file: textFile(joinPromptParts({ ...parts, instructions: '' })) };
  }
  const note =
    parts.instructions === '' ? PROMPT_FILE_NOTE : PROMPT_FILE_NOTE + INSTRUCTIONS_IN_FILE;
  return { text: note, file: textFile(whole) };
}

function textFile(text: string): InputFile {
  return { data: Buffer.from(text, 'utf8'), fileName: PROMPT_FILE_NAME, mimeType: 'text/plain' };
}
