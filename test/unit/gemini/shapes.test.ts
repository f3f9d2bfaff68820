import { describe, expect, it } from 'vitest';
import { createFrameParser, parseFrame } from '../../../src/gemini/parse.ts';
import { ERROR_SHAPES, PAYLOAD_SHAPES } from '../../../src/gemini/shapes.ts';
import { DOC_FINAL, INFO, keyed, statusEnvelope } from './support/shape-fixtures.ts';
import { CID, inner, RCID, RID, wrb } from './support/wire-fixtures.ts';

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
