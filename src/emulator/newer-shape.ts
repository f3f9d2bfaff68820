/**
 * The newer reply form, sent to clients that speak the newer request form (81 or more slots, the
 * model selector inside the request at slot 79; protocol doc §3). Google moved fields of its
 * replies into JSPB's sparse trailing objects (`cand[12][7]` became `cand[12][0]["8"]`, doc §4):
 * this form sends every field past the first two in the trailing object, keyed by field number,
 * echoes the model's name as a list, and keys its BardErrorInfo errors by number as well.
 */
import { ERROR_INFO_TYPE, errorEnvelope, type Envelope } from './frames.ts';

/** How the emulator lays out one reply: the doc's positional arrays, or the newer sparse form. */
export type ReplyForm = 'positional' | 'sparse';

/** The request forms that get the newer reply: the 81- and 102-slot arrays. */
const NEWER_FORM_MIN_SLOTS = 81;
const CANDIDATES_FIELD = '5';
const MODEL_NAME_FIELD = '43';
const IMAGES_FIELD = '13';

/** Which reply form a request of `slots` slots gets. */
export function replyFormFor(slots: number): ReplyForm {
  return slots >= NEWER_FORM_MIN_SLOTS ? 'sparse' : 'positional';
}

/** An inner payload array in the given form. */
export function shapeInner(inner: unknown[], form: ReplyForm): unknown[] {
  if (form === 'positional') {
    return inner;
  }
  const out = sparse(inner);
  const tail = tailOf(out);
  const candidates: unknown = tail?.[CANDIDATES_FIELD];
  if (tail && Array.isArray(candidates)) {
    tail[CANDIDATES_FIELD] = candidates.map((c: unknown) =>
      Array.isArray(c) ? sparseCandidate(c) : c,
    );
  }
  const model: unknown = tail?.[MODEL_NAME_FIELD];
  if (tail && typeof model === 'string') {
    tail[MODEL_NAME_FIELD] = [model];
  }
  return out;
}

/** An in-band error envelope in the given form (the code at envelope[5][2][0][1][0]). */
export function errorEnvelopeIn(form: ReplyForm, code: number, rpcCode = 3): Envelope {
  if (form === 'positional') {
    return errorEnvelope(code, rpcCode);
  }
  return [
    'wrb.fr',
    null,
    null,
    null,
    null,
    { '1': rpcCode, '3': [[ERROR_INFO_TYPE, { '1': code }]] },
  ];
}

function sparseCandidate(cand: unknown[]): unknown[] {
  const out = sparse(cand);
  const tail = tailOf(out);
  const images: unknown = tail?.[IMAGES_FIELD];
  if (tail && Array.isArray(images)) {
    tail[IMAGES_FIELD] = sparse(images);
  }
  return out;
}

function tailOf(message: readonly unknown[]): Record<string, unknown> | null {
  const last = message[message.length - 1];
  return isRecord(last) ? last : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The first two fields stay positional; every later non-null field goes to a trailing object
 * keyed by its number (index + 1), merged with any trailing object already there.
 */
function sparse(message: readonly unknown[], positional = 2): unknown[] {
  const last = tailOf(message);
  const fields = last ? message.slice(0, -1) : message;
  const head = fields.slice(0, positional);
  const tail: Record<string, unknown> = {};
  fields.forEach((value, i) => {
    if (i >= positional && value !== null && value !== undefined) {
      tail[String(i + 1)] = value;
    }
  });
  Object.assign(tail, last ?? {});
  return Object.keys(tail).length > 0 ? [...head, tail] : head;
}
