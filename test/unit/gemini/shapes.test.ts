import { describe, expect, it } from 'vitest';
import { readAnswer } from '../../../src/gemini/answer-reader.ts';
import { DRIFT_KINDS, type DriftKind } from '../../../src/gemini/drift.ts';
import { createSendTracker } from '../../../src/gemini/send-tracker.ts';
import type { GenerateEvent, GenerateResult } from '../../../src/gemini/types.ts';
import { createFrameParser, parseFrame, type FramePart } from '../../../src/gemini/parse.ts';
import { ERROR_SHAPES, PAYLOAD_SHAPES } from '../../../src/gemini/shapes.ts';
import {
  body,
  candidate,
  chunksOf,
  CID,
  inner,
  RCID,
  RID,
  snapshots,
  SYNTHESIZED_EXAMPLE,
  trailer,
  wrb,
} from './support/wire-fixtures.ts';

const INFO = 'type.googleapis.com/assistant.boq.bard.application.BardErrorInfo';
const statusEnvelope = (status: unknown): unknown[] => ['wrb.fr', null, null, null, null, status];

/** The doc's second synthesized frame, decoded: the finished answer with its context token. */
const DOC_FINAL = (() => {
  const line = SYNTHESIZED_EXAMPLE.split('\n')[5] ?? '';
  const envelope = (JSON.parse(line) as unknown[][])[0] ?? [];
  return JSON.parse(String(envelope[2])) as unknown[];
})();

/** The same message with every field keyed by its number (index + 1). */
function keyed(message: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  message.forEach((v, i) => {
    if (v !== null) {
      out[String(i + 1)] = v;
    }
  });
  return out;
}

/** One fixture per PAYLOAD_SHAPES row, built from the doc's example. */
const FIXTURES: Record<string, unknown> = {
  'jspb-array': DOC_FINAL,
  'jspb-keyed': keyed(DOC_FINAL),
};

describe('the payload shape table', () => {
  it('has one fixture per row, and unique names', () => {
    const names = PAYLOAD_SHAPES.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(FIXTURES).sort()).toEqual([...names].sort());
  });

  it.each(PAYLOAD_SHAPES.map((s) => s.name))('reads the doc example in the %s shape', (name) => {
    const parser = createFrameParser();
    expect(parser.shape).toBeNull();
    expect(parser.parse([wrb(FIXTURES[name])])).toEqual([
      {
        kind: 'payload',
        cid: CID,
        rid: RID,
        contextToken: 'AwAAAAAAAAAQ_example',
        modelName: null,
        candidate: {
          rcid: RCID,
          text: 'Hello! How can I help?',
          thoughts: '',
          status: 2,
          images: [],
        },
      },
    ]);
    expect(parser.shape).toBe(name);
  });

  it('remembers the shape that matched and follows the reply when it changes', () => {
    const parser = createFrameParser();
    parser.parse([wrb(keyed(DOC_FINAL))]);
    expect(parser.shape).toBe('jspb-keyed');
    // An ids-only frame matches no answer: the remembered shape stays.
    expect(parser.parse([wrb(keyed([null, [CID, RID]]))])).toMatchObject([
      { cid: CID, candidate: null },
    ]);
    expect(parser.shape).toBe('jspb-keyed');
    expect(parser.parse([wrb(DOC_FINAL)])[0]).toMatchObject({ candidate: { status: 2 } });
    expect(parser.shape).toBe('jspb-array');
  });

  it('reads a keyed candidate and the sparse tails the newer replies use (images keyed "8")', () => {
    const gen = [
      [null, null, null, [null, null, 'a robot', 'https://lh3.googleusercontent.com/gg-dl/X']],
      ['img_1'],
    ];
    const cand = {
      '1': RCID,
      '2': ['Hi'],
      '9': [2],
      '13': [null, null, { '8': [[gen]] }],
      '38': [['hmm']],
    };
    const message = [null, [CID, RID], { '5': [cand], '26': 'ctx', '43': ['3.6 Flash'] }];
    expect(parseFrame([wrb(message)])[0]).toEqual({
      kind: 'payload',
      cid: CID,
      rid: RID,
      contextToken: 'ctx',
      modelName: '3.6 Flash',
      candidate: {
        rcid: RCID,
        text: 'Hi',
        thoughts: 'hmm',
        status: 2,
        images: [
          {
            kind: 'generated',
            url: 'https://lh3.googleusercontent.com/gg-dl/X',
            alt: 'a robot',
            imageId: 'img_1',
          },
        ],
      },
    });
  });

  it('reads the model echo at inner[42] as a string or as a list', () => {
    expect(parseFrame([wrb(inner({ text: 'x', model: '3 Pro' }))])[0]).toMatchObject({
      modelName: '3 Pro',
    });
    const listed = inner({ text: 'x' });
    listed.push(...new Array<unknown>(16).fill(null), ['3.6 Flash', 3]);
    expect(listed).toHaveLength(43);
    expect(parseFrame([wrb(listed)])[0]).toMatchObject({ modelName: '3.6 Flash' });
  });
});

describe('the error shape table', () => {
  const cases: Record<string, unknown> = {
    'bard-error-info': [3, null, [[INFO, [1037]]]],
    'bard-error-info-named': [3, null, [[INFO, { code: 1037 }]]],
    'untyped-detail': [3, null, [[null, [1037]]]],
    'untyped-detail-named': [3, null, [[null, { code: 1037 }]]],
  };

  it('has one case per row', () => {
    expect(Object.keys(cases).sort()).toEqual(ERROR_SHAPES.map((s) => s.name).sort());
  });

  it.each(Object.entries(cases))('reads the code in the %s shape', (_name, status) => {
    expect(parseFrame([statusEnvelope(status)])).toEqual([
      { kind: 'error', code: 1037, rpcCode: 3 },
    ]);
  });

  it('reads BardErrorInfo in the keyed variants: status, detail and body keyed by number', () => {
    const keyedStatus = { '1': 7, '3': [[INFO, { '1': 1060 }]] };
    expect(parseFrame([statusEnvelope(keyedStatus)])).toEqual([
      { kind: 'error', code: 1060, rpcCode: 7 },
    ]);
    const keyedDetail = [4, null, [{ '1': INFO, '2': [1013] }]];
    expect(parseFrame([statusEnvelope(keyedDetail)])).toEqual([
      { kind: 'error', code: 1013, rpcCode: 4 },
    ]);
    const sparseTail = [3, { '3': [[INFO, [1097]]] }];
    expect(parseFrame([statusEnvelope(sparseTail)])).toEqual([
      { kind: 'error', code: 1097, rpcCode: 3 },
    ]);
    // The status itself in the envelope's sparse tail (field 6 = index 5).
    expect(parseFrame([['wrb.fr', null, null, { '6': [3, null, [[INFO, [1052]]]] }]])).toEqual([
      { kind: 'error', code: 1052, rpcCode: 3 },
    ]);
  });

  it('reads a bare status, positional or keyed, as a status without error', () => {
    expect(parseFrame([statusEnvelope([13])])).toEqual([{ kind: 'status', rpcCode: 13 }]);
    expect(parseFrame([statusEnvelope({ '1': 7 })])).toEqual([{ kind: 'status', rpcCode: 7 }]);
  });

  it('reports a detail of another type, or without a code, as error_shape drift', () => {
    expect(parseFrame([statusEnvelope([3, null, [['x.OtherInfo', [1037]]]])])).toEqual([
      { kind: 'drift', drift: 'error_shape' },
      { kind: 'status', rpcCode: 3 },
    ]);
    expect(parseFrame([statusEnvelope({ '3': [[INFO, ['no code']]] })])).toEqual([
      { kind: 'drift', drift: 'error_shape' },
    ]);
  });
});

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
