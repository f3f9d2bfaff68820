/**
 * Frames -> typed parts (protocol doc §4, §5), driven by the shape table in shapes.ts. Every read
 * is tolerant: an unexpected shape yields a `drift` part naming what did not match, never an
 * exception. A stream's parser remembers the payload shape that matched and tries it first, so a
 * frame costs one table lookup, not one per row.
 */
import { firstCandidate, type ParsedCandidate } from './candidate.ts';
import type { DriftKind } from './drift.ts';
import { jspbArray, jspbAt, jspbNumber, jspbString } from './jspb.ts';
import { ERROR_SHAPES, PAYLOAD_SHAPES, STATUS_PATHS, type PayloadShape } from './shapes.ts';

export { parseCandidate, stripPlaceholders, type ParsedCandidate } from './candidate.ts';

/** One `wrb.fr` payload (a StreamGenerate snapshot or a metadata-only frame). */
export interface ParsedPayload {
  kind: 'payload';
  cid: string | null;
  rid: string | null;
  contextToken: string | null;
  modelName: string | null;
  candidate: ParsedCandidate | null;
}

/**
 * What a frame can carry. `status` is a bare rpc status without detail (queueing or failure);
 * `drift` is a shape no parser here knows.
 */
export type FramePart =
  | ParsedPayload
  | { kind: 'error'; code: number; rpcCode: number | null }
  | { kind: 'status'; rpcCode: number }
  | { kind: 'drift'; drift: DriftKind }
  | { kind: 'end' };

type DriftPart = { kind: 'drift'; drift: DriftKind };

/** Parses the frames of one reply, remembering the payload shape that matched. */
export interface FrameParser {
  /** Every part in one frame (an array of envelopes; a lone envelope is accepted too). */
  parse(frame: unknown): FramePart[];
  /** The name of the payload shape that last matched an answer; null before one did. */
  readonly shape: string | null;
}

/** Envelope tags that carry nothing for us but are known: bookkeeping. */
const BOOKKEEPING_TAGS = new Set(['di', 'af.httprm']);

const drift = (kind: DriftKind): DriftPart => ({ kind: 'drift', drift: kind });

/** A parser for one reply; its memory of the matching shape lasts as long as it does. */
export function createFrameParser(): FrameParser {
  let order: readonly PayloadShape[] = PAYLOAD_SHAPES;
  let matched: PayloadShape | null = null;
  const remember = (shape: PayloadShape): void => {
    matched = shape;
    if (order[0] !== shape) {
      order = [shape, ...PAYLOAD_SHAPES.filter((s) => s !== shape)];
    }
  };
  const payloadParts = (innerText: string) => innerParts(innerText, order, remember);
  return {
    parse(frame) {
      if (!Array.isArray(frame)) {
        return [drift('frame_not_array')];
      }
      const envelopes: unknown[] = typeof frame[0] === 'string' ? [frame] : frame;
      if (envelopes.length === 1) {
        // The common frame (one envelope): its parts as they are, without flatMap's copy.
        return envelopeParts(envelopes[0], payloadParts);
      }
      return envelopes.flatMap((e) => envelopeParts(e, payloadParts));
    },
    get shape() {
      return matched?.name ?? null;
    },
  };
}

/** Every part in one frame, without memory between frames. */
export function parseFrame(frame: unknown): FramePart[] {
  return createFrameParser().parse(frame);
}

/** Parts of one envelope: `wrb.fr` payloads and errors, and the `e` trailer. */
export function parseEnvelope(envelope: unknown): FramePart[] {
  return envelopeParts(envelope, (text) => innerParts(text, PAYLOAD_SHAPES, () => undefined));
}

/** Decodes the inner JSON string of a `wrb.fr` envelope; null when it is not a payload. */
export function parseInner(innerText: string): ParsedPayload | null {
  const parts = innerParts(innerText, PAYLOAD_SHAPES, () => undefined);
  return parts.find((p): p is ParsedPayload => p.kind === 'payload') ?? null;
}

function envelopeParts(
  envelope: unknown,
  payloadParts: (innerText: string) => (ParsedPayload | DriftPart)[],
): FramePart[] {
  const tag = jspbString(envelope, 0);
  if (tag === 'e') {
    return [{ kind: 'end' }];
  }
  if (tag !== 'wrb.fr') {
    return tag !== undefined && BOOKKEEPING_TAGS.has(tag) ? [] : [drift('envelope_unknown')];
  }
  const parts: FramePart[] = [];
  const innerText = jspbString(envelope, 2);
  if (innerText !== undefined) {
    parts.push(...payloadParts(innerText));
  }
  const status = statusOf(envelope);
  if (status !== undefined) {
    parts.push(...parseStatus(status));
  }
  return parts;
}

/**
 * The rpc status at envelope[5]. Read directly first: a keyed status object there is the last
 * element, which the sparse-tail rule of jspb.ts would otherwise take for the envelope's own tail.
 */
function statusOf(envelope: unknown): unknown {
  const direct: unknown = Array.isArray(envelope) ? envelope[5] : undefined;
  const status = direct ?? jspbAt(envelope, 5);
  return isMessage(status) ? status : undefined;
}

/**
 * An rpc status. The code is read from the first detail that an ERROR_SHAPES row reads, wherever
 * it sits among the details; a status without any is a bare status (queueing or failure).
 */
function parseStatus(status: unknown): FramePart[] {
  const rpcCode = jspbNumber(status, ...STATUS_PATHS.rpcCode) ?? null;
  const details = jspbArray(status, ...STATUS_PATHS.details);
  for (const detail of details) {
    const type = jspbString(detail, 0) ?? '';
    // detail[1] is read directly: a trailing object there is the body, not sparse fields.
    const body: unknown = Array.isArray(detail) ? detail[1] : jspbAt(detail, 1);
    for (const shape of ERROR_SHAPES) {
      const code = shape.detailType.test(type) ? jspbNumber(body, ...shape.code) : undefined;
      if (code !== undefined) {
        return [{ kind: 'error', code, rpcCode }];
      }
    }
  }
  const parts: FramePart[] = details.length > 0 ? [drift('error_shape')] : [];
  if (rpcCode !== null) {
    parts.push({ kind: 'status', rpcCode });
  }
  return parts.length > 0 ? parts : [drift('error_shape')];
}

/**
 * The payload of a `wrb.fr` inner string, and any drift in it. Shapes are tried in `order`; the
 * first whose candidate list holds an answer wins and is remembered. A frame without candidates
 * (ids, title, tool status) is read with the first shape whose message form fits.
 */
function innerParts(
  innerText: string,
  order: readonly PayloadShape[],
  remember: (shape: PayloadShape) => void,
): (ParsedPayload | DriftPart)[] {
  let inner: unknown;
  try {
    inner = JSON.parse(innerText);
  } catch {
    return [drift('payload_not_json')];
  }
  let fitting: PayloadShape | null = null;
  let shapeless = false;
  for (const shape of order) {
    if (!fitsMessage(inner, shape)) {
      continue;
    }
    fitting ??= shape;
    const candidates = jspbAt(inner, ...shape.candidates);
    if (candidates === undefined) {
      continue;
    }
    const candidate = firstCandidate(candidates, shape.candidate);
    if (candidate) {
      remember(shape);
      return [payloadOf(inner, shape, candidate)];
    }
    shapeless ||= !Array.isArray(candidates) || candidates.length > 0;
  }
  if (!fitting) {
    return [drift('payload_shape')];
  }
  const payload = payloadOf(inner, fitting, null);
  return shapeless ? [payload, drift('candidate_shape')] : [payload];
}

function payloadOf(
  inner: unknown,
  shape: PayloadShape,
  candidate: ParsedCandidate | null,
): ParsedPayload {
  const model = jspbAt(inner, ...shape.modelName);
  return {
    kind: 'payload',
    cid: jspbString(inner, ...shape.cid) ?? null,
    rid: jspbString(inner, ...shape.rid) ?? null,
    contextToken: jspbString(inner, ...shape.contextToken) ?? null,
    modelName: (typeof model === 'string' ? model : jspbString(model, 0)) ?? null,
    candidate,
  };
}

const FIELD_NUMBER_RE = /^\d+$/;

function fitsMessage(inner: unknown, shape: PayloadShape): boolean {
  return shape.message === 'array' ? Array.isArray(inner) : isKeyedMessage(inner);
}

/** An object keyed by field numbers: `{"2": […], "5": […]}`. */
function isKeyedMessage(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  for (const key in value) {
    if (FIELD_NUMBER_RE.test(key)) {
      return true;
    }
  }
  return false;
}

function isMessage(value: unknown): boolean {
  return Array.isArray(value) || isKeyedMessage(value);
}
