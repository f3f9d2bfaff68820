/**
 * Google's response framing, written independently of the client's parser: the `)]}'` prefix,
 * then `<N>\n<json>\n` frames where N is the UTF-16 length of `\n` + json + `\n`, and an `e`
 * trailer that counts envelopes and body characters.
 */
import { randomInt } from 'node:crypto';

/** A single envelope: one element of a frame's top-level array. */
export type Envelope = unknown[];

/** The anti-JSON-hijacking prefix every response starts with. */
export const RESPONSE_PREFIX = ")]}'\n\n";

/** The type URL of the detail that carries Gemini's error code. */
export const ERROR_INFO_TYPE = 'type.googleapis.com/assistant.boq.bard.application.BardErrorInfo';

/** One `<N>\n<json>\n` frame; JavaScript string length already counts UTF-16 code units. */
export function encodeFrame(envelopes: readonly Envelope[]): string {
  const json = JSON.stringify(envelopes);
  return `${json.length + 2}\n${json}\n`;
}

/** A StreamGenerate payload envelope: the inner array JSON-encoded once more. */
export function payloadEnvelope(inner: unknown): Envelope {
  return ['wrb.fr', null, JSON.stringify(inner)];
}

/** A batchexecute reply envelope for one RPC. */
export function rpcEnvelope(rpcId: string, payload: unknown): Envelope {
  return ['wrb.fr', rpcId, JSON.stringify(payload), null, null, null, 'generic'];
}

/** An in-band error: the code sits at envelope[5][2][0][1][0]. */
export function errorEnvelope(code: number, rpcCode = 3): Envelope {
  return ['wrb.fr', null, null, null, null, [rpcCode, null, [[ERROR_INFO_TYPE, [code]]]]];
}

/** The `di` and `af.httprm` bookkeeping envelopes. */
export function bookkeepingEnvelopes(elapsedMs: number): Envelope[] {
  const ms = Math.max(1, Math.round(elapsedMs));
  const id = `-${randomInt(1e8, 9e8)}${randomInt(1e9, 1e10)}`;
  return [
    ['di', ms],
    ['af.httprm', ms - 1, id, randomInt(10, 99)],
  ];
}

/** Builds a framed body piece by piece, keeping the counts the trailer needs. */
export class FrameWriter {
  private chars = 0;
  private envelopes = 0;

  /** The prefix; written once, first. */
  prefix(): string {
    return this.count(RESPONSE_PREFIX);
  }

  /** One frame of envelopes. */
  frame(envelopes: readonly Envelope[]): string {
    this.envelopes += envelopes.length;
    return this.count(encodeFrame(envelopes));
  }

  /** The `e` trailer, whose total includes the trailer frame itself. */
  trailer(): string {
    const count = this.envelopes + 1;
    let total = this.chars;
    // The total's own digits change the frame length; two passes always settle it.
    for (let i = 0; i < 3; i += 1) {
      total = this.chars + encodeFrame([['e', count, null, null, total]]).length;
    }
    this.envelopes = count;
    return this.count(encodeFrame([['e', count, null, null, total]]));
  }

  private count(text: string): string {
    this.chars += text.length;
    return text;
  }
}

/** The legacy unframed body (no `rt=c`): the prefix and one JSON line of every envelope. */
export function encodeUnframed(envelopes: readonly Envelope[]): string {
  return `${RESPONSE_PREFIX}${JSON.stringify(envelopes)}\n`;
}
