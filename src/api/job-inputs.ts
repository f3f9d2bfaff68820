/**
 * Input files travel to the account's job as local files, never as bytes in Redis: the HTTP side
 * writes each one under DATA_DIR/inputs, the job uploads it inside the account's line, and the
 * HTTP side deletes it once the request has ended.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobInput } from '../account/index.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { InputFile } from './inputs.ts';

/** Files written for one request, and how to remove them. */
export interface StagedInputs {
  readonly inputs: JobInput[];
  /** Deletes the files; never throws. */
  cleanup(): Promise<void>;
}

/** Writes `files` under `dir` (created if needed), readable by this user only. */
export async function stageInputs(files: readonly InputFile[], dir: string): Promise<StagedInputs> {
  const inputs: JobInput[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(inputs.map((i) => fs.rm(i.path, { force: true }).catch(() => undefined)));
  };
  if (files.length === 0) {
    return { inputs, cleanup };
  }
  await fs.mkdir(dir, { recursive: true });
  try {
    for (const f of files) {
      const file = path.join(path.resolve(dir), randomUUID());
      await fs.writeFile(file, f.data, { mode: 0o600 });
      inputs.push({ path: file, fileName: f.fileName, mimeType: f.mimeType });
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { inputs, cleanup };
}

/** The bytes of a staged input, read by the job; a clear 503 when this process cannot see it. */
export async function readStagedInput(input: JobInput): Promise<Buffer> {
  try {
    return await fs.readFile(input.path);
  } catch (cause) {
    throw new ServiceUnavailableError(
      "An input file of this request is not readable by the process that ran it (the account's " +
        'processes must share DATA_DIR); nothing was sent.',
      5,
      { code: 'input_unavailable', cause, upstreamSent: false },
    );
  }
}

/** Removes input files older than `maxAgeMs` that a stopped process left behind. */
export async function sweepStaleInputs(
  dir: string,
  maxAgeMs: number,
  now = Date.now(),
): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      const st = await fs.stat(file).catch(() => null);
      if (st?.isFile() && now - st.mtimeMs > maxAgeMs) {
        await fs.rm(file, { force: true }).catch(() => undefined);
      }
    }),
  );
}
