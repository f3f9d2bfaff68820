import { describe, expect, it } from 'vitest';
import {
  parseCandidate,
  parseFrame,
  parseInner,
  stripPlaceholders,
} from '../../../src/gemini/parse.ts';
import { jspbAt } from '../../../src/gemini/jspb.ts';
import {
  candidate,
  CID,
  errorEnvelope,
  inner,
  RCID,
  RID,
  SYNTHESIZED_EXAMPLE,
  wrb,
} from './support/wire-fixtures.ts';

describe('jspbAt', () => {
  it('reads positional and sparse trailing-object fields alike', () => {
    expect(jspbAt([null, ['a'], { '26': 'ctx' }], 25)).toBe('ctx');
    expect(jspbAt([null, ['a'], { '26': 'ctx' }], 1, 0)).toBe('a');
    expect(jspbAt([null, { '7': [['deep']] }], 6, 0, 0)).toBe('deep');
    expect(jspbAt([1, 2, 3], 5)).toBeUndefined();
    expect(jspbAt('not an array', 0)).toBeUndefined();
    expect(jspbAt([[1]], 0, 0, 0, 0)).toBeUndefined();
  });
});

describe('parseFrame', () => {
  it('parses the synthesized example into ids, answer, status and context token', () => {
    const lines = SYNTHESIZED_EXAMPLE.split('\n');
    const first = parseFrame(JSON.parse(lines[3] ?? ''));
    expect(first).toEqual([
      {
        kind: 'payload',
        cid: CID,
        rid: RID,
        contextToken: null,
        modelName: null,
        candidate: { rcid: RCID, text: 'Hello', thoughts: '', status: 1, images: [] },
      },
    ]);
    const second = parseFrame(JSON.parse(lines[5] ?? ''));
    expect(second[0]).toMatchObject({
      contextToken: 'AwAAAAAAAAAQ_example',
      candidate: { text: 'Hello! How can I help?', status: 2 },
    });
    expect(parseFrame(JSON.parse(lines[7] ?? ''))).toEqual([]);
    expect(parseFrame(JSON.parse(lines[9] ?? ''))).toEqual([{ kind: 'end' }]);
  });

  it('reads the in-band error code at envelope[5][2][0][1][0]', () => {
    expect(parseFrame([errorEnvelope(1037)])).toEqual([{ kind: 'error', code: 1037, rpcCode: 3 }]);
    // The fixture form from a real error reply.
    const real = [['wrb.fr', null, null, null, null, [3, null, [['…BardErrorInfo', [1003]]]]]];
    expect(parseFrame(real)).toEqual([{ kind: 'error', code: 1003, rpcCode: 3 }]);
  });

  it('reports bare rpc status codes without detail as status parts', () => {
    for (const rpc of [7, 4, 2, 13]) {
      expect(parseFrame([['wrb.fr', null, null, null, null, [rpc]]])).toEqual([
        { kind: 'status', rpcCode: rpc },
      ]);
    }
  });

  it('accepts a lone envelope, ignores bookkeeping, and reports unknown tags and junk as drift', () => {
    const drift = (kind: string) => ({ kind: 'drift', drift: kind });
    expect(parseFrame(['e', 3, null, null, 10])).toEqual([{ kind: 'end' }]);
    expect(
      parseFrame([
        ['di', 1],
        ['af.httprm', 1, '-1', 2],
      ]),
    ).toEqual([]);
    expect(parseFrame([['xyz'], 5, null])).toEqual([
      drift('envelope_unknown'),
      drift('envelope_unknown'),
      drift('envelope_unknown'),
    ]);
    expect(parseFrame({ not: 'an array' })).toEqual([drift('frame_not_array')]);
    expect(parseFrame([['wrb.fr', null, 'not json{']])).toEqual([drift('payload_not_json')]);
    expect(parseFrame([['wrb.fr', null, '{"a":1}']])).toEqual([drift('payload_shape')]);
  });

  it('reports candidates without an rcid, and error details without a code, as drift', () => {
    const objects = [null, [CID, RID], null, null, [{ responseId: 'rc_1', markdown: 'x' }]];
    expect(parseFrame([wrb(objects)])).toEqual([
      expect.objectContaining({ kind: 'payload', cid: CID, candidate: null }),
      { kind: 'drift', drift: 'candidate_shape' },
    ]);
    const noCode = ['wrb.fr', null, null, null, null, [3, null, [['x.BardErrorInfo', ['?']]]]];
    expect(parseFrame([noCode])).toEqual([
      { kind: 'drift', drift: 'error_shape' },
      { kind: 'status', rpcCode: 3 },
    ]);
  });

  it('reads a BardErrorInfo code among other details, positional or sparse', () => {
    const info = 'type.googleapis.com/assistant.boq.bard.application.BardErrorInfo';
    const second = [
      3,
      null,
      [
        ['type.googleapis.com/google.rpc.DebugInfo', ['x']],
        [info, [1037]],
      ],
    ];
    expect(parseFrame([['wrb.fr', null, null, null, null, second]])).toEqual([
      { kind: 'error', code: 1037, rpcCode: 3 },
    ]);
    const sparse = [7, null, [[info, { '1': 1060 }]]];
    expect(parseFrame([['wrb.fr', null, null, null, null, sparse]])).toEqual([
      { kind: 'error', code: 1060, rpcCode: 7 },
    ]);
  });
});

describe('parseInner', () => {
  it('accepts sparse trailing-object fields for the context token and model name', () => {
    const sparse = [
      null,
      [CID, RID],
      { '5': [candidate({ text: 'Hi' })], '26': 'ctx_sparse', '43': '3.6 Flash' },
    ];
    expect(parseInner(JSON.stringify(sparse))).toMatchObject({
      cid: CID,
      rid: RID,
      contextToken: 'ctx_sparse',
      modelName: '3.6 Flash',
      candidate: { rcid: RCID, text: 'Hi' },
    });
  });

  it('reads the model name at inner[42]', () => {
    expect(parseInner(JSON.stringify(inner({ text: 'x', model: '2.5 Pro' })))?.modelName).toBe(
      '2.5 Pro',
    );
  });

  it('picks the first candidate that has an rcid', () => {
    const arr = inner({ text: 'second' });
    arr[4] = [[null, ['first, no rcid']], candidate({ text: 'second', rcid: 'rc_2' })];
    expect(parseInner(JSON.stringify(arr))?.candidate).toMatchObject({
      rcid: 'rc_2',
      text: 'second',
    });
  });

  it('yields a payload without candidate for metadata-only frames', () => {
    const meta = [null, [CID, RID], { '11': ['A title'], '44': true }];
    expect(parseInner(JSON.stringify(meta))).toMatchObject({ cid: CID, candidate: null });
  });

  it('returns null for an inner string that is not JSON', () => {
    expect(parseInner('}{')).toBeNull();
  });
});

describe('parseCandidate', () => {
  it('reads thoughts at cand[37][0][0]', () => {
    expect(parseCandidate(candidate({ text: 'A', thoughts: 'Let me think' }))?.thoughts).toBe(
      'Let me think',
    );
  });

  it('replaces a card_content placeholder with the real text at cand[22][0]', () => {
    const c = candidate({
      text: 'http://googleusercontent.com/card_content/0',
      card: 'Real card text',
    });
    expect(parseCandidate(c)?.text).toBe('Real card text');
  });

  it('strips placeholder URLs from the answer text', () => {
    const c = candidate({
      text: 'Here:\nhttp://googleusercontent.com/image_generation_content/0\nDone',
    });
    expect(parseCandidate(c)?.text).toBe('Here:\n\nDone');
    expect(stripPlaceholders('a http://googleusercontent.com/card_content/12 b')).toBe('a  b');
    expect(stripPlaceholders('https://example.com/x/1 stays')).toBe(
      'https://example.com/x/1 stays',
    );
  });

  it('reads web images from cand[12][1]', () => {
    const img = [
      [['https://example.com/cat.jpg'], null, null, null, 'a cat'],
      null,
      null,
      null,
      null,
      null,
      null,
      ['Cat page'],
    ];
    const c = candidate({ text: 'see', images: [null, [img]] });
    expect(parseCandidate(c)?.images).toEqual([
      { kind: 'web', url: 'https://example.com/cat.jpg', alt: 'a cat', title: 'Cat page' },
    ]);
  });

  it('reads generated images from cand[12][7][0], with the legacy alt as fallback', () => {
    const gen = (url: string, alt: string | null, legacyAlt: string[]) => [
      [null, null, null, [null, null, alt, url]],
      ['img_id_1'],
      null,
      [null, null, null, null, null, legacyAlt, 1],
    ];
    const images = new Array<unknown>(8).fill(null);
    images[7] = [
      [
        gen('https://lh3.googleusercontent.com/gg-dl/AAA', 'a robot', []),
        gen('https://lh3.googleusercontent.com/gg-dl/BBB', null, ['x', 'second alt']),
      ],
    ];
    const c = candidate({ text: '', images });
    expect(parseCandidate(c)?.images).toEqual([
      {
        kind: 'generated',
        url: 'https://lh3.googleusercontent.com/gg-dl/AAA',
        alt: 'a robot',
        imageId: 'img_id_1',
      },
      {
        kind: 'generated',
        url: 'https://lh3.googleusercontent.com/gg-dl/BBB',
        alt: 'second alt',
        imageId: 'img_id_1',
      },
    ]);
  });

  it('reads edited images sent as cand[12][0]["8"][0]', () => {
    const img = [
      [null, null, null, [null, null, 'edited', 'https://lh3.googleusercontent.com/gg-dl/EDIT']],
      ['e1'],
    ];
    const c = candidate({ text: '', images: [{ '8': [[img]] }] });
    expect(parseCandidate(c)?.images).toEqual([
      {
        kind: 'generated',
        url: 'https://lh3.googleusercontent.com/gg-dl/EDIT',
        alt: 'edited',
        imageId: 'e1',
      },
    ]);
  });

  it('tolerates missing and odd-shaped fields', () => {
    expect(parseCandidate(['rc_x'])).toEqual({
      rcid: 'rc_x',
      text: '',
      thoughts: '',
      status: null,
      images: [],
    });
    expect(parseCandidate([null, ['no rcid']])).toBeNull();
    expect(parseCandidate('text')).toBeNull();
    expect(
      parseCandidate([
        'rc_y',
        'not an array',
        null,
        null,
        null,
        null,
        null,
        null,
        'x',
        null,
        null,
        null,
        'images?',
      ]),
    ).toMatchObject({ text: '', status: null, images: [] });
    expect(parseFrame([wrb([null, 'cid?', null, null, 'cands?'])])).toMatchObject([
      { cid: null, candidate: null },
      { kind: 'drift', drift: 'candidate_shape' },
    ]);
  });
});
