import { describe, expect, it } from 'vitest';
import { GeminiError } from '../../../src/gemini/errors.ts';
import { readFrames } from '../../../src/gemini/frames.ts';
import { parseFrame } from '../../../src/gemini/parse.ts';
import {
  commonPrefixLength,
  createAnswerAssembler,
  createDeltaTracker,
  stableText,
} from '../../../src/gemini/stream.ts';
import type { FailureKind, GenerateEvent, GenerateResult } from '../../../src/gemini/types.ts';
import {
  body,
  chunksOf,
  CID,
  errorEnvelope,
  inner,
  RCID,
  RID,
  snapshots,
  splitAt,
  SYNTHESIZED_EXAMPLE,
  trailer,
  wrb,
} from './support/wire-fixtures.ts';

const enc = new TextEncoder();

/** Runs a whole body through frames -> parts -> events, as the client does. */
async function run(chunks: readonly Uint8Array[]): Promise<GenerateEvent[]> {
  const answer = createAnswerAssembler();
  const events: GenerateEvent[] = [];
  for await (const frame of readFrames(chunksOf(chunks))) {
    for (const part of parseFrame(frame)) {
      events.push(...answer.push(part));
    }
  }
  const { events: last, result } = answer.finish();
  events.push(...last, { type: 'done', result });
  return events;
}

const runText = (text: string) => run([enc.encode(text)]);

function textOf(events: GenerateEvent[], type: 'text' | 'thought' = 'text'): string {
  return events.map((e) => (e.type === type ? e.delta : '')).join('');
}

function resultOf(events: GenerateEvent[]): GenerateResult {
  const done = events.at(-1);
  if (done?.type !== 'done') {
    throw new Error('no done event');
  }
  return done.result;
}

async function failure(text: string): Promise<GeminiError> {
  const err: unknown = await runText(text).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof GeminiError)) {
    throw new Error(`expected a GeminiError, got ${String(err)}`);
  }
  return err;
}

describe('createDeltaTracker', () => {
  it('sends only what each cumulative snapshot adds', () => {
    const t = createDeltaTracker();
    expect(t.push('Hel', false)).toBe('Hel');
    expect(t.push('Hello', false)).toBe('lo');
    expect(t.push('Hello', false)).toBe('');
    expect(t.push('Hello world', true)).toBe(' world');
    expect(t.sent).toBe('Hello world');
  });

  it('holds back a trailing code fence until a later snapshot moves past it', () => {
    const t = createDeltaTracker();
    expect(t.push('```js\ncode\n```', false)).toBe('```js\ncode');
    expect(t.push('```js\ncode();\n```', false)).toBe('();');
    expect(t.push('```js\ncode();\nmore\n```', false)).toBe('\nmore');
    expect(t.push('```js\ncode();\nmore\n```', true)).toBe('\n```');
    expect(t.sent).toBe('```js\ncode();\nmore\n```');
    // The held-back fence never reached the client, so the flicker cost nothing.
    const u = createDeltaTracker();
    expect(u.push('a\n```', false)).toBe('a');
    expect(u.push('a\nb and more', false)).toBe('\nb and more');
    expect(u.sent).toBe('a\nb and more');
    expect(u.push('a\nb and more\n```', true)).toBe('\n```');
  });

  it('holds back trailing backslashes and half-written placeholder URLs', () => {
    expect(stableText('path C:\\', false)).toBe('path C:');
    expect(stableText('see http://googleusercontent.com/card_con', false)).toBe('see ');
    expect(stableText('see http://goo', false)).toBe('see ');
    expect(stableText('see http://googleusercontent.com/image_generation_content/', false)).toBe(
      'see ',
    );
    expect(stableText('plain text', false)).toBe('plain text');
    expect(stableText('ends with `', true)).toBe('ends with `');
  });

  it('never retracts: a contradicting snapshot waits, then sends from the common prefix', () => {
    const t = createDeltaTracker();
    expect(t.push('Hello wor', false)).toBe('Hello wor');
    // Same length, different tail: nothing can be sent without retracting.
    expect(t.push('Hello wax', false)).toBe('');
    // Longer than what we followed: send everything past the longest common prefix.
    expect(t.push('Hello wax and more', false)).toBe('ax and more');
    expect(t.sent).toBe('Hello worax and more');
    expect(t.push('Hello wax and more!', true)).toBe('!');
  });

  it('never splits a surrogate pair at the common prefix', () => {
    expect(commonPrefixLength('a😀', 'a😃')).toBe(1);
    const t = createDeltaTracker();
    t.push('a😀', false);
    expect(t.push('a😃 longer', false)).toBe('😃 longer');
  });

  it('reassembles emoji and CJK snapshots exactly', () => {
    const text = '你好👋🏽 世界 🇯🇵 — naïve café';
    const t = createDeltaTracker();
    const chars = [...text];
    let sent = '';
    for (let i = 1; i <= chars.length; i += 1) {
      sent += t.push(chars.slice(0, i).join(''), i === chars.length);
    }
    expect(sent).toBe(text);
  });
});

describe('createAnswerAssembler', () => {
  it('turns the synthesized example into metadata, text deltas and a result', async () => {
    const events = await runText(SYNTHESIZED_EXAMPLE);
    expect(events.slice(0, -1)).toEqual([
      { type: 'metadata', chat: { cid: CID, rid: RID, rcid: RCID } },
      { type: 'text', delta: 'Hello' },
      { type: 'text', delta: '! How can I help?' },
    ]);
    expect(resultOf(events)).toEqual({
      text: 'Hello! How can I help?',
      thoughts: '',
      images: [],
      chat: { cid: CID, rid: RID, rcid: RCID, contextToken: 'AwAAAAAAAAAQ_example' },
      modelName: null,
    });
  });

  it('yields identical events for a stream split at every byte offset', async () => {
    const text = body(...snapshots('Grüße 👋🏽 你好，世界！ The end.', 5), ...trailer(7));
    const bytes = enc.encode(text);
    const expected = await run([bytes]);
    expect(textOf(expected)).toBe('Grüße 👋🏽 你好，世界！ The end.');
    for (let i = 1; i < bytes.length; i += 1) {
      expect(await run(splitAt(bytes, [i]))).toEqual(expected);
    }
  });

  it('streams thoughts separately from the answer', async () => {
    const frames = [
      [wrb(inner({ text: '', thoughts: 'Thinking', status: 1 }))],
      [wrb(inner({ text: '', thoughts: 'Thinking about it', status: 1 }))],
      [wrb(inner({ text: 'Answer', thoughts: 'Thinking about it', status: 2, context: 'c' }))],
    ];
    const events = await runText(body(...frames));
    expect(textOf(events, 'thought')).toBe('Thinking about it');
    expect(textOf(events)).toBe('Answer');
    expect(resultOf(events).thoughts).toBe('Thinking about it');
  });

  it('resolves card_content and collects images in the result', async () => {
    const images = new Array<unknown>(8).fill(null);
    images[1] = [
      [
        [['https://example.com/a.png'], null, null, null, 'alt'],
        null,
        null,
        null,
        null,
        null,
        null,
        ['t'],
      ],
    ];
    images[7] = [
      [
        [
          [null, null, null, [null, null, 'gen', 'https://lh3.googleusercontent.com/gg-dl/X']],
          ['id'],
        ],
      ],
    ];
    const frames = [
      [
        wrb(
          inner({
            text: 'http://googleusercontent.com/card_content/0',
            card: 'Card text',
            images,
            status: 2,
          }),
        ),
      ],
    ];
    const result = resultOf(await runText(body(...frames)));
    expect(result.text).toBe('Card text');
    expect(result.images.map((i) => `${i.kind}:${i.url}`)).toEqual([
      'web:https://example.com/a.png',
      'generated:https://lh3.googleusercontent.com/gg-dl/X',
    ]);
  });

  it('never streams a placeholder URL that is still being written', async () => {
    const steps = [
      'Look: http://googleuser',
      'Look: http://googleusercontent.com/image_generation_content/',
      'Look: http://googleusercontent.com/image_generation_content/0 done',
    ];
    const frames = steps.map((t, i) => [
      wrb(inner({ text: t, status: i === steps.length - 1 ? 2 : 1 })),
    ]);
    const events = await runText(body(...frames));
    expect(textOf(events)).toBe('Look:  done');
    expect(resultOf(events).text).toBe('Look:  done');
  });

  it('reads the model name when Gemini states it', async () => {
    const result = resultOf(
      await runText(body([wrb(inner({ text: 'x', status: 2, model: '3.6 Flash' }))])),
    );
    expect(result.modelName).toBe('3.6 Flash');
  });

  const CODES: [number, FailureKind, number][] = [
    [1013, 'transient', 502],
    [1037, 'quota', 429],
    [1050, 'model', 400],
    [1052, 'model', 400],
    [1060, 'ip_blocked', 429],
    [1097, 'followup_rejected', 502],
    [1003, 'transient', 502],
    [1096, 'transient', 502],
    [4242, 'transient', 502],
  ];
  for (const [code, kind, status] of CODES) {
    it(`classifies in-band code ${code} as ${kind}`, async () => {
      const err = await failure(
        body([wrb([null, [CID, RID]])], [errorEnvelope(code)], ...trailer(4)),
      );
      expect(err.kind).toBe(kind);
      expect(err.upstreamCode).toBe(code);
      expect(err.status).toBe(status);
      expect(err.message).toContain(String(code));
    });
  }

  it('ignores 1096 after a good answer', async () => {
    const text = body(...snapshots('All good.', 2), [errorEnvelope(1096)], ...trailer(5));
    const events = await runText(text);
    expect(resultOf(events).text).toBe('All good.');
  });

  it('ignores 1096 after partial text but still requires a complete answer', async () => {
    const text = body(
      [wrb(inner({ text: 'Partial', status: 1 }))],
      [errorEnvelope(1096)],
      ...trailer(4),
    );
    expect((await failure(text)).kind).toBe('transient');
  });

  it('fails on a code that arrives mid-answer, after text was streamed', async () => {
    const answer = createAnswerAssembler();
    const first = answer.push({
      kind: 'payload',
      cid: CID,
      rid: RID,
      contextToken: null,
      modelName: null,
      candidate: { rcid: RCID, text: 'Hal', thoughts: '', status: 1, images: [] },
    });
    expect(first.map((e) => e.type)).toEqual(['metadata', 'text']);
    expect(() => answer.push({ kind: 'error', code: 1013, rpcCode: 3 })).toThrow(GeminiError);
  });

  it('fails as transient when the body ends before the answer completes', async () => {
    const err = await failure(body([wrb(inner({ text: 'Half an ans', status: 1 }))]));
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/before the answer was complete/);
  });

  it('fails as transient when only a bare status arrives', async () => {
    const err = await failure(body([['wrb.fr', null, null, null, null, [13]]], ...trailer(3)));
    expect(err.kind).toBe('transient');
    expect(err.message).toContain('status 13');
  });

  it('fails as transient on an empty reply', async () => {
    expect((await failure(")]}'\n\n")).kind).toBe('transient');
  });

  it('accepts a legacy reply without status fields when it ends with the trailer', async () => {
    const envelopes = [
      wrb(inner({ text: 'Legacy answer', status: null, context: 'c' })),
      ['e', 2, null, null, 1],
    ];
    const events = await runText(`)]}'\n${JSON.stringify(envelopes)}\n`);
    expect(textOf(events)).toBe('Legacy answer');
  });
});
