/**
 * The answer assembler failing: in-band error codes classified, 1096 ignored only after a complete
 * answer, and a body that ends too soon or empty is transient.
 */
import { describe, expect, it } from 'vitest';
import { GeminiError } from '../../../src/gemini/errors.ts';
import { createAnswerAssembler } from '../../../src/gemini/stream.ts';
import type { FailureKind } from '../../../src/gemini/types.ts';
import { failure, resultOf, runText } from './support/stream-runner.ts';
import {
  body,
  CID,
  errorEnvelope,
  inner,
  RCID,
  RID,
  snapshots,
  trailer,
  wrb,
} from './support/wire-fixtures.ts';

describe('createAnswerAssembler: failures', () => {
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
});
