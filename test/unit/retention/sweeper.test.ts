import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging.ts';
import { RetentionSweeper } from '../../../src/retention/index.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 3, 12);

function file(dir: string, relative: string, ageMs: number): string {
  const full = path.join(dir, relative);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, 'x');
  const t = new Date(NOW - ageMs);
  fs.utimesSync(full, t, t);
  return full;
}

/** A symlink to `target`, its own time `ageMs` old (a history-key link). */
function link(dir: string, relative: string, target: string, ageMs: number): string {
  const full = path.join(dir, relative);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.symlinkSync(target, full);
  const t = new Date(NOW - ageMs);
  fs.lutimesSync(full, t, t);
  return full;
}

describe('RetentionSweeper (fake clock)', () => {
  it('deletes what is older than each target age, counts the rest, keeps forever at 0', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-retention-'));
    const images = path.join(root, 'images');
    const conversations = path.join(root, 'conversations');
    const uploads = path.join(root, 'uploads');
    const oldImage = file(images, '202612/20261201/old.png', 25 * HOUR);
    file(images, '.owners/202612/20261201/old.png', 25 * HOUR);
    const newImage = file(images, '202612/20261203/new.png', 1 * HOUR);
    file(images, '.owners/202612/20261203/new.png', 1 * HOUR);
    const oldChat = file(conversations, 'a.json', 15 * 24 * HOUR);
    const newChat = file(conversations, 'b.json', 13 * 24 * HOUR);
    file(conversations, '.history-keys/k1', 15 * 24 * HOUR);
    const oldKeyLink = link(conversations, '.history-keys/k2', 'a', 15 * 24 * HOUR);
    const newKeyLink = link(conversations, '.history-keys/k3', 'b', 1 * HOUR);
    const ancientUpload = file(uploads, 'x.png', 1000 * 24 * HOUR);
    const counts: Record<string, number> = {};
    let now = NOW;
    const sweeper = new RetentionSweeper({
      intervalMs: 60_000,
      logger: createLogger({ silent: true }),
      now: () => now,
      targets: [
        {
          name: 'images',
          dir: images,
          maxAgeMs: 24 * HOUR,
          onCount: (n) => (counts['images'] = n),
        },
        {
          name: 'conversations',
          dir: conversations,
          maxAgeMs: 14 * 24 * HOUR,
          isItem: (r) => !r.includes(path.sep) && r.endsWith('.json'),
          onCount: (n) => (counts['conversations'] = n),
        },
        { name: 'uploads', dir: uploads, maxAgeMs: 0 },
      ],
    });
    const report = await sweeper.sweep();
    expect(report).toEqual({
      images: { deleted: 1, kept: 1 },
      conversations: { deleted: 1, kept: 1 },
      uploads: { deleted: 0, kept: 1 },
    });
    expect(counts).toEqual({ images: 1, conversations: 1 });
    expect([oldImage, oldChat].filter((f) => fs.existsSync(f))).toEqual([]);
    expect([newImage, newChat, ancientUpload].every((f) => fs.existsSync(f))).toBe(true);
    // The emptied day folder went; the owner sidecar of the old image too.
    expect(fs.existsSync(path.join(images, '202612/20261201'))).toBe(false);
    expect(fs.existsSync(path.join(images, '.owners/202612/20261201/old.png'))).toBe(false);
    expect(fs.existsSync(path.join(conversations, '.history-keys'))).toBe(true);
    // Key links age by their own time, though what they name does not resolve; never counted.
    expect(fs.readdirSync(path.dirname(oldKeyLink))).toEqual([path.basename(newKeyLink)]);

    // A day later by the fake clock, the remaining image ages out too.
    now += 24 * HOUR;
    expect((await sweeper.sweep())['images']).toEqual({ deleted: 1, kept: 0 });
    expect(counts['images']).toBe(0);
    await sweeper.close();
  });
});
