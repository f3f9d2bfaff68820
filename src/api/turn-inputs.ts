/**
 * Everything a turn uploads, staged for its job: for the first send, the images its prompt
 * carries (the current turn's, or in a replay the earlier turns' too), the request's files and
 * the prompt file when the prompt is too long to send inline; the same again for the replay the
 * job sends if Gemini rejects a follow-up. Each file is read and checked once; each list names
 * its images image_1, image_2… in the order the prompt's notes number them. A repeated image is
 * one staged file but goes up once per place (the job uploads by file and name): the notes number
 * each place, and the web app never lists one file id twice in a prompt, so neither do we; the
 * cap (checkInputCount) counts every place.
 */
import path from 'node:path';
import type { JobInput } from '../account/index.ts';
import type { ConversationPlan, ImageRef } from './conversation-plan.ts';
import { checkInputCount, readInputs, type InputFile, type InputOptions } from './inputs.ts';
import { stageInputs } from './job-inputs.ts';
import { KeptImages, type ImageToKeep } from './kept-images.ts';
import { outgoingPrompt } from './prompt-file.ts';

/** A turn's uploads and the inline prompts that go with them. */
export interface TurnInputs {
  readonly prompt: string;
  readonly inputs: readonly JobInput[];
  /** null: no replay (the turn is not a follow-up, or its replay was too long to send). */
  readonly replayPrompt: string | null;
  readonly replayInputs: readonly JobInput[];
  /** The client's image references read for this turn, by the name they are kept under. */
  readonly keptNames: ReadonlyMap<string, string>;
  /** The staged images to keep with the conversation once it is saved. */
  readonly toKeep: readonly ImageToKeep[];
  /** Deletes the staged files (never the kept images); never throws. */
  cleanup(): Promise<void>;
}

/** What staging needs. */
export interface TurnInputOptions {
  readonly read: InputOptions;
  readonly inputsDir: string;
  readonly inlineMaxChars: number;
  readonly kept: KeptImages;
}

const KEPT_MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** Reads, checks and stages a turn's uploads; throws 4xx before anything is queued. */
export async function prepareTurnInputs(
  cp: ConversationPlan,
  files: readonly string[],
  opts: TurnInputOptions,
): Promise<TurnInputs> {
  // Each image a send carries is uploaded, a repeated one each time: the cap counts them all.
  // Planning already left out the oldest earlier images over the cap (named as omitted in the
  // prompt), so a long conversation fits; only the turn's own images and files can exceed it.
  checkInputCount(
    Math.max(cp.images.length, cp.replayImages.length),
    files.length,
    opts.read.maxImages,
  );
  // Read once per distinct reference: a repeated URL is fetched once.
  const refs = [
    ...new Set([...cp.replayImages, ...cp.images].filter((r) => typeof r === 'string')),
  ];
  const read = await readInputs(refs, files, opts.read);
  const first = outgoingPrompt(cp.promptParts, opts.inlineMaxChars);
  const replay = cp.replayParts ? outgoingPrompt(cp.replayParts, opts.inlineMaxChars) : null;
  const promptFiles = [first.file, replay?.file ?? null].filter((f): f is InputFile => f !== null);
  const staged = await stageInputs([...read, ...promptFiles], opts.inputsDir);
  const stagedOf = new Map(refs.map((ref, i) => [ref, staged.inputs[i]!]));
  const fileInputs = staged.inputs.slice(refs.length, refs.length + files.length);
  const promptInput = (file: InputFile | null) =>
    file ? [staged.inputs[refs.length + files.length + promptFiles.indexOf(file)]!] : [];
  const list = async (images: readonly ImageRef[], file: InputFile | null) => [
    ...(await imageInputs(images, stagedOf, opts.kept)),
    ...fileInputs,
    ...promptInput(file),
  ];
  const keptNames = new Map<string, string>();
  const toKeep: ImageToKeep[] = [];
  refs.forEach((ref, i) => {
    const name = KeptImages.nameOf(read[i]!.data, read[i]!.mimeType);
    if (name) {
      keptNames.set(ref, name);
      toKeep.push({ name, path: staged.inputs[i]!.path });
    }
  });
  return {
    prompt: first.text,
    inputs: await list(cp.images, first.file),
    replayPrompt: replay?.text ?? null,
    replayInputs: replay ? await list(cp.replayImages, replay.file) : [],
    keptNames,
    toKeep,
    cleanup: () => staged.cleanup(),
  };
}

/** The job inputs of a prompt's images, named by position; a kept image gone is left out. */
async function imageInputs(
  images: readonly ImageRef[],
  stagedOf: ReadonlyMap<string, JobInput>,
  kept: KeptImages,
): Promise<JobInput[]> {
  const out: JobInput[] = [];
  for (const [i, ref] of images.entries()) {
    if (typeof ref === 'string') {
      const input = stagedOf.get(ref)!;
      out.push({ ...input, fileName: `image_${i + 1}${path.extname(input.fileName)}` });
      continue;
    }
    const file = await kept.path(ref.kept);
    const ext = path.extname(ref.kept).slice(1);
    if (file) {
      out.push({ path: file, fileName: `image_${i + 1}.${ext}`, mimeType: KEPT_MIME[ext]! });
    }
  }
  return out;
}
