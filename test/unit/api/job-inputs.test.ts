/**
 * Input files on their way to the job: written privately under DATA_DIR/inputs, read back by the
 * job, removed when the request ends, and swept when a stopped process left them behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStagedInput, stageInputs, sweepStaleInputs } from '../../../src/api/job-inputs.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function inputsDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-inputs-'));
  dirs.push(root);
  return path.join(root, 'inputs');
}

describe('job inputs', () => {
  it('stages files readable by the job, private to this user, and removes them', async () => {
    const dir = inputsDir();
    const staged = await stageInputs(
      [{ data: Buffer.from('png bytes'), fileName: 'a.png', mimeType: 'image/png' }],
      dir,
    );
    expect(staged.inputs).toHaveLength(1);
    const [input] = staged.inputs;
    expect(input).toMatchObject({ fileName: 'a.png', mimeType: 'image/png' });
    expect(path.dirname(input!.path)).toBe(path.resolve(dir));
    expect(fs.statSync(input!.path).mode & 0o777).toBe(0o600);
    expect((await readStagedInput(input!)).toString()).toBe('png bytes');
    await staged.cleanup();
    expect(fs.existsSync(input!.path)).toBe(false);
    await expect(readStagedInput(input!)).rejects.toMatchObject({
      status: 503,
      code: 'input_unavailable',
      upstreamSent: false,
    });
  });

  it('writes nothing for a request without files', async () => {
    const dir = inputsDir();
    const staged = await stageInputs([], dir);
    expect(staged.inputs).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('sweeps only files older than the limit', async () => {
    const dir = inputsDir();
    fs.mkdirSync(dir, { recursive: true });
    const old = path.join(dir, 'old');
    const fresh = path.join(dir, 'fresh');
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(fresh, 'y');
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(old, hourAgo, hourAgo);
    await sweepStaleInputs(dir, 600_000);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
  });
});
