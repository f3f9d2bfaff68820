import { describe, expect, it } from 'vitest';
import { ANSWER_TAIL, wallClockMs, type FrameLogEntry } from '../../../src/emulator/index.ts';
import { createFrameLog } from '../../../src/emulator/frame-log.ts';
import { generateForm, payloads, readFrames, signedIn, useTestEmulator } from './support.ts';

describe('frame log (ring)', () => {
  it('keeps each answer apart, stamped with the clock, oldest first', () => {
    let now = 100;
    const log = createFrameLog({ capacity: 4, framesPerAnswer: 8 }, () => (now += 1.25));
    const a = log.open({ seq: 1, email: 'a@x.y', prompt: 'one' });
    const b = log.open({ seq: 2, email: null });
    a.stamp(null);
    b.stamp(3);
    a.stamp(5);
    expect(log.list()).toEqual([
      {
        seq: 1,
        email: 'a@x.y',
        prompt: 'one',
        frames: [
          { atMs: 101.25, textLength: null },
          { atMs: 103.75, textLength: 5 },
        ],
      },
      { seq: 2, email: null, prompt: '', frames: [{ atMs: 102.5, textLength: 3 }] },
    ]);
  });

  it('holds only the last `capacity` answers and `framesPerAnswer` frames of each', () => {
    const log = createFrameLog({ capacity: 3, framesPerAnswer: 2 }, () => 0);
    for (let seq = 1; seq <= 7; seq += 1) {
      const timeline = log.open({ seq, email: null });
      for (let k = 0; k < 10; k += 1) {
        timeline.stamp(k);
      }
    }
    log.open({ seq: 8, email: null, prompt: 'p'.repeat(5_000_000) });
    const kept = log.list();
    expect(kept.map((e) => e.seq)).toEqual([6, 7, 8]);
    // A huge prompt is kept by its head only.
    expect(kept[2]!.prompt).toBe('p'.repeat(1000));
    expect(kept.slice(0, 2).every((e) => e.frames.length === 2)).toBe(true);
    // A timeline evicted from the ring still stamps harmlessly, into nothing that is listed.
    const early = log.open({ seq: 9, email: null });
    log.open({ seq: 10, email: null });
    log.open({ seq: 11, email: null });
    log.open({ seq: 12, email: null });
    early.stamp(1);
    expect(log.list().map((e) => e.seq)).toEqual([10, 11, 12]);
    expect(log.list().every((e) => e.frames.length === 0)).toBe(true);
  });

  it('lists copies, and clear() empties it', () => {
    const log = createFrameLog({ capacity: 2, framesPerAnswer: 4 }, () => 1);
    log.open({ seq: 1, email: null }).stamp(2);
    const listed = log.list();
    listed[0]!.frames.push({ atMs: 0, textLength: 0 });
    expect(log.list()[0]!.frames).toHaveLength(1);
    log.clear();
    expect(log.list()).toEqual([]);
    log.open({ seq: 2, email: null });
    expect(log.list().map((e) => e.seq)).toEqual([2]);
  });
});

const t = useTestEmulator();

describe('frame log (served)', () => {
  const control = async (route: string, method = 'GET'): Promise<unknown> =>
    (await t.fetch(`https://127.0.0.1/__emulator/${route}`, { method })).json();

  it('stamps every frame of each StreamGenerate answer with its text length', async () => {
    await control('frames', 'DELETE');
    const s = await signedIn(t, 'frames@example.com');
    const before = wallClockMs();
    const bodies: string[] = [];
    for (const prompt of ['first 世界', 'second']) {
      bodies.push(await (await s.generate(generateForm(s.at, prompt))).text());
    }
    const after = wallClockMs();
    const entries = (await control('frames')) as FrameLogEntry[];
    expect(entries.map((e) => [e.email, e.prompt])).toEqual([
      ['frames@example.com', 'first 世界'],
      ['frames@example.com', 'second'],
    ]);
    const records = t.emulator.records().filter((r) => r.kind === 'generate');
    expect(entries.map((e) => e.seq)).toEqual(records.slice(-2).map((r) => r.seq));
    entries.forEach((entry, i) => {
      // One stamp per frame the client read, bookkeeping included.
      expect(entry.frames).toHaveLength(readFrames(bodies[i]!).frames.length);
      const times = entry.frames.map((f) => f.atMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(times[0]).toBeGreaterThanOrEqual(before);
      expect(times.at(-1)).toBeLessThanOrEqual(after);
      // The text lengths are those of the snapshots the client got, growing to the full answer.
      const lengths = entry.frames.map((f) => f.textLength).filter((n) => n !== null);
      const texts = payloads(readFrames(bodies[i]!).frames)
        .map((inner) => (inner[4] as unknown[][] | undefined)?.[0]?.[1] as string[] | undefined)
        .filter((text) => text !== undefined)
        .map((text) => text[0]!.length);
      expect(lengths).toEqual(texts);
      expect(lengths.at(-1)).toBe(`Echo (turn 1): ${entry.prompt}\n\n${ANSWER_TAIL}`.length);
      expect(entry.frames[0]!.textLength).toBeNull();
    });
  });

  it('serves its clock, and forgets the frames on DELETE', async () => {
    const mine = wallClockMs();
    const { nowMs } = (await control('clock')) as { nowMs: number };
    // Same machine, same clock: the emulator's reading lies within this round trip.
    expect(nowMs).toBeGreaterThanOrEqual(mine);
    expect(nowMs).toBeLessThanOrEqual(wallClockMs());
    expect(await control('frames', 'DELETE')).toEqual({ ok: true });
    expect(await control('frames')).toEqual([]);
  });
});
