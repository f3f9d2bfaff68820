import { describe, expect, it } from 'vitest';
import {
  clockOffset,
  frameDelays,
  SseContentReader,
  type SentFrame,
} from '../../../bench/frame-match.ts';

// ids frame, three snapshots (10, 20, 30 characters) with a title frame, bookkeeping.
const FRAMES: SentFrame[] = [
  { atMs: 1000, textLength: null },
  { atMs: 1020, textLength: 10 },
  { atMs: 1040, textLength: null },
  { atMs: 1041, textLength: 20 },
  { atMs: 1060, textLength: 30 },
  { atMs: 1061, textLength: null },
];

describe('frameDelays', () => {
  it('matches event k to snapshot k and subtracts its send time', () => {
    const events = [
      { atMs: 1021.5, textLength: 10 },
      { atMs: 1043, textLength: 20 },
      { atMs: 1060.25, textLength: 30 },
    ];
    expect(frameDelays(events, FRAMES)).toEqual({ delays: [1.5, 2, 0.25], unmatched: 0 });
  });

  it('gives each event of one coalesced write its own frame', () => {
    // Frames 10 and 20 left the worker in one write, both arriving at 1045.
    const events = [
      { atMs: 1045, textLength: 10 },
      { atMs: 1045, textLength: 20 },
    ];
    expect(frameDelays(events, FRAMES).delays).toEqual([25, 4]);
  });

  it('blames a held-back tail on the frame that first carried it, never the later one', () => {
    // The client held 2 characters of the 10-character snapshot back: its first event is 8
    // long, and the next one (released by the 20-character frame) is matched there.
    const events = [
      { atMs: 1022, textLength: 8 },
      { atMs: 1042, textLength: 20 },
    ];
    expect(frameDelays(events, FRAMES).delays).toEqual([2, 1]);
  });

  it('counts events longer than any frame as unmatched', () => {
    const events = [
      { atMs: 1021, textLength: 10 },
      { atMs: 1070, textLength: 31 },
    ];
    expect(frameDelays(events, FRAMES)).toEqual({ delays: [1], unmatched: 1 });
    expect(frameDelays(events, [])).toEqual({ delays: [], unmatched: 2 });
  });
});

const sse = (content: string): string =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

describe('SseContentReader', () => {
  it('stamps each content event with the chunk that completed its line', () => {
    const reader = new SseContentReader();
    const role = `data: ${JSON.stringify({ choices: [{ delta: { role: 'assistant', content: '' } }] })}\n\n`;
    const first = sse('Echo 🌍');
    reader.push(role + first.slice(0, 12), 5);
    expect(reader.events).toEqual([]);
    reader.push(first.slice(12) + sse('你好'), 7);
    reader.push(': keep-alive\n\n' + sse('!').slice(0, 4), 9);
    reader.push(sse('!').slice(4) + 'data: [DONE]\n\n', 11);
    // Lengths in UTF-16 units, as the emulator counts them: the emoji is two.
    expect(reader.events).toEqual([
      { atMs: 7, textLength: 7 },
      { atMs: 7, textLength: 9 },
      { atMs: 11, textLength: 10 },
    ]);
  });
});

describe('clockOffset', () => {
  it('trusts the quickest round trip and says how far', () => {
    const probes = [
      { sentMs: 0, theirsMs: 9, receivedMs: 10 },
      { sentMs: 20, theirsMs: 21.5, receivedMs: 22 },
      { sentMs: 30, theirsMs: 31, receivedMs: 36 },
    ];
    expect(clockOffset(probes)).toEqual({ offsetMs: 0.5, withinMs: 1 });
  });
});
