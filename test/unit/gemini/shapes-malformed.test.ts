/** Replies no shape row reads give drift, never a throw; whole replies assemble in any row. */
import { describe, expect, it } from 'vitest';
import { readAnswer } from '../../../src/gemini/answer-reader.ts';
import { DRIFT_KINDS, type DriftKind } from '../../../src/gemini/drift.ts';
import { createFrameParser, parseFrame, type FramePart } from '../../../src/gemini/parse.ts';
import { createSendTracker } from '../../../src/gemini/send-tracker.ts';
import type { GenerateEvent, GenerateResult } from '../../../src/gemini/types.ts';
import { DOC_FINAL, keyed, statusEnvelope } from './support/shape-fixtures.ts';
import {
  body,
  candidate,
  chunksOf,
  CID,
  RCID,
  RID,
  snapshots,
  trailer,
  wrb,
} from './support/wire-fixtures.ts';

describe('malformed input', () => {
  const driftOnly = (parts: FramePart[]) => parts.filter((p) => p.kind === 'drift');

  it('gives drift for shapes no row knows, never a throw', () => {
    const unknowns: [unknown, string][] = [
      [{}, 'payload_shape'],
      [{ a: 1 }, 'payload_shape'],
      [null, 'payload_shape'],
      ['text', 'payload_shape'],
      [42, 'payload_shape'],
      [[null, [CID, RID], null, null, [{ responseId: RCID, markdown: 'x' }]], 'candidate_shape'],
      [{ '2': [CID, RID], '5': [{ responseId: RCID }] }, 'candidate_shape'],
      [{ '5': 'not a list' }, 'candidate_shape'],
    ];
    for (const [message, kind] of unknowns) {
      expect(driftOnly(parseFrame([wrb(message)]))).toEqual([{ kind: 'drift', drift: kind }]);
    }
  });

  it('survives every truncation and type swap of the doc example', () => {
    const parser = createFrameParser();
    const text = JSON.stringify(DOC_FINAL);
    const odd: unknown[] = [null, 0, -1, '', 'x', true, [], {}, [[[]]], { '1': {} }, 1e308];
    const seen = new Set<string>();
    for (let cut = 0; cut <= text.length; cut += 7) {
      for (const part of parser.parse([['wrb.fr', null, text.slice(0, cut)]])) {
        seen.add(part.kind === 'drift' ? part.drift : part.kind);
      }
    }
    const swapAt = (path: number[], value: unknown): unknown => {
      const copy = JSON.parse(text) as unknown[];
      let node: unknown = copy;
      path.slice(0, -1).forEach((i) => (node = (node as unknown[])[i]));
      (node as unknown[])[path.at(-1) ?? 0] = value;
      return copy;
    };
    for (const path of [
      [1],
      [1, 0],
      [4],
      [4, 0],
      [4, 0, 0],
      [4, 0, 1],
      [4, 0, 1, 0],
      [4, 0, 8],
      [25],
    ]) {
      for (const value of odd) {
        const parts = parser.parse([wrb(swapAt(path, value)), statusEnvelope(value)]);
        parts.forEach((p) => seen.add(p.kind === 'drift' ? p.drift : p.kind));
        expect(Array.isArray(parts)).toBe(true);
      }
    }
    for (const kind of seen) {
      expect(['payload', 'error', 'status', ...DRIFT_KINDS]).toContain(kind);
    }
    expect(seen).toContain('payload_not_json');
    expect(seen).toContain('candidate_shape');
  });

  it('keeps the first candidate that has an rcid when earlier ones lack it', () => {
    const message = [
      null,
      [CID, RID],
      null,
      null,
      [{ '2': ['no rcid'] }, candidate({ text: 'ok', rcid: 'rc_2' })],
    ];
    expect(parseFrame([wrb(message)])[0]).toMatchObject({
      candidate: { rcid: 'rc_2', text: 'ok' },
    });
  });
});

describe('a whole reply through the answer reader', () => {
  async function answer(
    frames: unknown[][],
  ): Promise<{ events: GenerateEvent[]; result: GenerateResult; drift: DriftKind[] }> {
    const drift: DriftKind[] = [];
    const reader = readAnswer(
      chunksOf([new TextEncoder().encode(body(...frames))]),
      createSendTracker(undefined),
      (kind) => drift.push(kind),
    );
    const events: GenerateEvent[] = [];
    for (;;) {
      const step = await reader.next();
      if (step.done) {
        return { events, result: step.value, drift };
      }
      events.push(step.value);
    }
  }

  it('assembles a reply sent in the keyed shape like the positional one', async () => {
    const positional = snapshots('Hello from a newer shape', 4);
    const keyedFrames = positional.map((f) => {
      const envelope = f[0] as unknown[];
      return [wrb(keyed(JSON.parse(String(envelope[2])) as unknown[]))];
    });
    const a = await answer([...positional, ...trailer(6)]);
    const b = await answer([...keyedFrames, ...trailer(6)]);
    expect(b.drift).toEqual([]);
    expect(b.result).toEqual(a.result);
    expect(b.result).toMatchObject({
      text: 'Hello from a newer shape',
      chat: { cid: CID, rid: RID, rcid: RCID, contextToken: 'ctx_token_1' },
    });
    expect(
      b.events
        .filter((e) => e.type === 'text')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Hello from a newer shape');
  });
});
