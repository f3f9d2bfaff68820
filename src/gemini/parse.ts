/**
 * Frames -> typed parts (protocol doc §4). Paths are snapshots kept here, in one place; every read
 * is tolerant: an unexpected shape yields a `drift` part naming what did not match, never an
 * exception.
 */
import type { DriftKind } from './drift.ts';
import { jspbArray, jspbAt, jspbNumber, jspbString } from './jspb.ts';
import type { GeneratedImage, ResponseImage, WebImage } from './types.ts';

/** The answer candidate of one snapshot. Text and thoughts are cumulative. */
export interface ParsedCandidate {
  rcid: string;
  /** Cleaned Markdown: card_content resolved, placeholder URLs removed. */
  text: string;
  thoughts: string;
  /** `cand[8][0]`: 1 generating, 2 complete; null when absent. */
  status: number | null;
  images: ResponseImage[];
}

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

/** Envelope tags that carry nothing for us but are known: bookkeeping. */
const BOOKKEEPING_TAGS = new Set(['di', 'af.httprm']);
const ERROR_INFO_RE = /BardErrorInfo$/;

const drift = (kind: DriftKind): { kind: 'drift'; drift: DriftKind } => ({
  kind: 'drift',
  drift: kind,
});

const PLACEHOLDER_RE = /http:\/\/googleusercontent\.com\/\w+\/\d+/g;
const CARD_CONTENT_RE = /http:\/\/googleusercontent\.com\/card_content\/\d+/;

/** Removes `http://googleusercontent.com/<kind>/<n>` placeholders from answer text. */
export function stripPlaceholders(text: string): string {
  return text.replace(PLACEHOLDER_RE, '');
}

/** Every part in one frame (an array of envelopes; a lone envelope is accepted too). */
export function parseFrame(frame: unknown): FramePart[] {
  if (!Array.isArray(frame)) {
    return [drift('frame_not_array')];
  }
  const envelopes: unknown[] = typeof frame[0] === 'string' ? [frame] : frame;
  return envelopes.flatMap(parseEnvelope);
}

/** Parts of one envelope: `wrb.fr` payloads and errors, and the `e` trailer. */
export function parseEnvelope(envelope: unknown): FramePart[] {
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
    parts.push(...innerParts(innerText));
  }
  const status = jspbAt(envelope, 5);
  if (Array.isArray(status)) {
    parts.push(...parseStatus(status));
  }
  return parts;
}

/**
 * An rpc status `[rpcCode, null, details]`. The code is read from the BardErrorInfo detail
 * wherever it sits among the details, positional (`[type, [code]]`) or sparse (`{"1": code}`).
 */
function parseStatus(status: readonly unknown[]): FramePart[] {
  const rpcCode = jspbNumber(status, 0) ?? null;
  const details = jspbArray(status, 2);
  for (const detail of details) {
    const type = jspbString(detail, 0) ?? '';
    // detail[1] is read directly: a trailing object there is the body, not sparse fields.
    const body: unknown = Array.isArray(detail) ? detail[1] : undefined;
    const code = jspbNumber(body, 0) ?? jspbNumber(body, 'code');
    if (code !== undefined && (type === '' || ERROR_INFO_RE.test(type))) {
      return [{ kind: 'error', code, rpcCode }];
    }
  }
  const parts: FramePart[] = details.length > 0 ? [drift('error_shape')] : [];
  if (rpcCode !== null) {
    parts.push({ kind: 'status', rpcCode });
  }
  return parts.length > 0 ? parts : [drift('error_shape')];
}

/** Decodes the inner JSON string of a `wrb.fr` envelope; null when it is not a payload. */
export function parseInner(innerText: string): ParsedPayload | null {
  const payload = innerParts(innerText).find((p) => p.kind === 'payload');
  return payload ?? null;
}

/** The payload of a `wrb.fr` inner string, and any drift in it. */
function innerParts(innerText: string): (ParsedPayload | { kind: 'drift'; drift: DriftKind })[] {
  let inner: unknown;
  try {
    inner = JSON.parse(innerText);
  } catch {
    return [drift('payload_not_json')];
  }
  if (!Array.isArray(inner)) {
    return [drift('payload_shape')];
  }
  const candidates = jspbAt(inner, 4);
  let candidate: ParsedCandidate | null = null;
  for (const cand of Array.isArray(candidates) ? candidates : []) {
    candidate = parseCandidate(cand);
    if (candidate) {
      break;
    }
  }
  const shapeless =
    candidates !== undefined &&
    candidate === null &&
    (!Array.isArray(candidates) || candidates.length > 0);
  const model = jspbAt(inner, 42);
  const payload: ParsedPayload = {
    kind: 'payload',
    cid: jspbString(inner, 1, 0) ?? null,
    rid: jspbString(inner, 1, 1) ?? null,
    contextToken: jspbString(inner, 25) ?? null,
    modelName: (typeof model === 'string' ? model : jspbString(model, 0)) ?? null,
    candidate,
  };
  return shapeless ? [payload, drift('candidate_shape')] : [payload];
}

/** One candidate; null unless it has an rcid (the first that has one is the answer). */
export function parseCandidate(cand: unknown): ParsedCandidate | null {
  const rcid = jspbString(cand, 0);
  if (!rcid) {
    return null;
  }
  let text = jspbString(cand, 1, 0) ?? '';
  if (CARD_CONTENT_RE.test(text)) {
    // The visible text is only a card placeholder; the real text travels in cand[22].
    text = jspbString(cand, 22, 0) ?? text;
  }
  return {
    rcid,
    text: stripPlaceholders(text),
    thoughts: jspbString(cand, 37, 0, 0) ?? '',
    status: jspbNumber(cand, 8, 0) ?? null,
    images: [...webImages(cand), ...generatedImages(cand)],
  };
}

function webImages(cand: unknown): WebImage[] {
  const out: WebImage[] = [];
  for (const img of jspbArray(cand, 12, 1)) {
    const url = jspbString(img, 0, 0, 0);
    if (url) {
      out.push({
        kind: 'web',
        url,
        alt: jspbString(img, 0, 4) ?? '',
        title: jspbString(img, 7, 0) ?? '',
      });
    }
  }
  return out;
}

function generatedImages(cand: unknown): GeneratedImage[] {
  const out: GeneratedImage[] = [];
  // cand[12][7][0] is the usual place; image-to-image edits arrive as cand[12][0]["8"][0].
  for (const list of [jspbArray(cand, 12, 7, 0), jspbArray(cand, 12, 0, '8', 0)]) {
    list.forEach((img, i) => {
      const url = jspbString(img, 0, 3, 3);
      if (url && !out.some((o) => o.url === url)) {
        const alt =
          jspbString(img, 0, 3, 2) ?? jspbString(img, 3, 5, i) ?? jspbString(img, 3, 5, 0) ?? '';
        out.push({ kind: 'generated', url, alt, imageId: jspbString(img, 1, 0) ?? null });
      }
    });
  }
  return out;
}
