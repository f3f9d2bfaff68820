/**
 * The answer assembler on whole StreamGenerate bodies: metadata, text and thought deltas, the
 * result with its images and model name, whatever the chunking.
 */
import { describe, expect, it } from 'vitest';
import { resultOf, run, runText, textOf } from './support/stream-runner.ts';
import {
  body,
  CID,
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

  it('accepts a legacy reply without status fields when it ends with the trailer', async () => {
    const envelopes = [
      wrb(inner({ text: 'Legacy answer', status: null, context: 'c' })),
      ['e', 2, null, null, 1],
    ];
    const events = await runText(`)]}'\n${JSON.stringify(envelopes)}\n`);
    expect(textOf(events)).toBe('Legacy answer');
  });
});
