/**
 * Replies in shapes no parser of ours knows, for the drift faults: what a Google release that
 * moves fields would look like. StreamGenerate gets candidates as keyed objects and an envelope
 * tag never seen; otAQ7b gets its status and model list under new keys.
 */
import {
  bookkeepingEnvelopes,
  encodeUnframed,
  FrameWriter,
  payloadEnvelope,
  type Envelope,
} from './frames.ts';
import { begin, end, type RequestContext } from './http-io.ts';
import type { EmulatedModel } from './models.ts';

/** Sends a StreamGenerate reply whose answer the current parser cannot find. */
export function sendUnknownGenerateShape(ctx: RequestContext, framed: boolean): void {
  const inner = [
    null,
    ['c_0000000000000000', 'r_0000000000000000'],
    null,
    null,
    [{ responseId: 'rc_0000000000000000', markdown: 'An answer in a shape nobody reads.' }],
  ];
  const envelopes: Envelope[] = [
    payloadEnvelope(inner),
    ['wrb.fr2', null, JSON.stringify({ candidates: [] })],
    ...bookkeepingEnvelopes(1),
  ];
  begin(ctx, 200, { 'content-type': 'application/json; charset=utf-8' });
  if (!framed) {
    end(ctx, encodeUnframed(envelopes));
    return;
  }
  const writer = new FrameWriter();
  end(ctx, writer.prefix() + writer.frame(envelopes) + writer.trailer());
}

/** An otAQ7b payload with the status and the model list moved under keys. */
export function unknownAccountStatusShape(models: readonly EmulatedModel[]): unknown {
  return { status: 'OK', availableModels: models.map((m) => ({ id: m.id, title: m.displayName })) };
}
