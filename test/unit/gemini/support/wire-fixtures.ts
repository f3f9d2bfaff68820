/**
 * Builders for StreamGenerate replies shaped as in docs/gemini-web-protocol.md §4, with frame
 * lengths counted in UTF-16 code units as Gemini counts them.
 */

export const CID = 'c_1a2b3c4d5e6f7a8b';
export const RID = 'r_9f8e7d6c5b4a3f2e';
export const RCID = 'rc_0a1b2c3d4e5f6a7b';

/** The synthesized example from the protocol doc, verbatim. */
export const SYNTHESIZED_EXAMPLE = [
  ")]}'",
  '',
  '160',
  '[["wrb.fr",null,"[null,[\\"c_1a2b3c4d5e6f7a8b\\",\\"r_9f8e7d6c5b4a3f2e\\"],null,null,[[\\"rc_0a1b2c3d4e5f6a7b\\",[\\"Hello\\"],null,null,null,null,null,null,[1]]]]"]]',
  '302',
  '[["wrb.fr",null,"[null,[\\"c_1a2b3c4d5e6f7a8b\\",\\"r_9f8e7d6c5b4a3f2e\\"],null,null,[[\\"rc_0a1b2c3d4e5f6a7b\\",[\\"Hello! How can I help?\\"],null,null,null,null,null,null,[2]]],null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,\\"AwAAAAAAAAAQ_example\\"]"]]',
  '58',
  '[["di",812],["af.httprm",811,"-1234567890123456789",42]]',
  '25',
  '[["e",5,null,null,561]]',
  '',
].join('\n');

/** One `<N>\n<json>\n` frame. */
export function frame(envelopes: unknown): string {
  const json = JSON.stringify(envelopes);
  return `${json.length + 2}\n${json}\n`;
}

/** A whole framed body: the XSSI prefix, then the frames. */
export function body(...frames: unknown[]): string {
  return `)]}'\n\n${frames.map(frame).join('')}`;
}

/** A `wrb.fr` envelope carrying `inner` (JSON-encoded again, as on the wire). */
export function wrb(inner: unknown): unknown[] {
  return ['wrb.fr', null, JSON.stringify(inner)];
}

/** An in-band error envelope with a BardErrorInfo code. */
export function errorEnvelope(code: number, rpcCode = 3): unknown[] {
  return [
    'wrb.fr',
    null,
    null,
    null,
    null,
    [rpcCode, null, [['type.googleapis.com/assistant.boq.bard.application.BardErrorInfo', [code]]]],
  ];
}

export interface CandidateShape {
  text?: string;
  status?: number | null;
  thoughts?: string;
  card?: string;
  images?: unknown;
  rcid?: string;
}

/** A candidate array with the fields at their positional indexes. */
export function candidate(c: CandidateShape): unknown[] {
  const cand: unknown[] = new Array<unknown>(38).fill(null);
  cand[0] = c.rcid ?? RCID;
  cand[1] = [c.text ?? ''];
  cand[8] = c.status === null ? null : [c.status ?? 1];
  if (c.images !== undefined) {
    cand[12] = c.images;
  }
  if (c.card !== undefined) {
    cand[22] = [c.card];
  }
  if (c.thoughts !== undefined) {
    cand[37] = [[c.thoughts]];
  }
  return cand;
}

export interface InnerShape extends CandidateShape {
  context?: string;
  model?: string;
}

/** An inner payload: ids, one candidate, and optionally context token and model name. */
export function inner(c: InnerShape): unknown[] {
  const arr: unknown[] = new Array<unknown>(c.model === undefined ? 26 : 43).fill(null);
  arr[1] = [CID, RID];
  arr[4] = [candidate(c)];
  if (c.context !== undefined) {
    arr[25] = c.context;
  }
  if (c.model !== undefined) {
    arr[42] = c.model;
  }
  return arr;
}

/** Cumulative snapshots of `text` in `steps` pieces, the last one complete with a context token. */
export function snapshots(
  text: string,
  steps: number,
  extra: Partial<InnerShape> = {},
): unknown[][] {
  const chars = [...text];
  const out: unknown[][] = [];
  for (let i = 1; i <= steps; i += 1) {
    const last = i === steps;
    const partial = chars.slice(0, Math.ceil((chars.length * i) / steps)).join('');
    out.push([
      wrb(
        inner({
          ...extra,
          text: partial,
          status: last ? 2 : 1,
          ...(last ? { context: 'ctx_token_1' } : {}),
        }),
      ),
    ]);
  }
  return out;
}

/** The bookkeeping frames and trailer that close a reply. */
export function trailer(envelopes: number): unknown[][] {
  return [
    [
      ['di', 812],
      ['af.httprm', 811, '-1234567890123456789', 42],
    ],
    [['e', envelopes, null, null, 0]],
  ];
}

/** Splits a byte array into chunks at the given offsets. */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets)].filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(prev, cut));
    prev = cut;
  }
  return out;
}

/** An async iterable over chunks, as a response body would yield them. */
export async function* chunksOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    yield c;
  }
}
