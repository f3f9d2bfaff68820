/**
 * Reads a StreamGenerate form: `at` and the double-encoded `f.req`. Tolerates any inner length,
 * the current 69-slot array and the legacy 3-item form alike (their shared slots line up).
 */

/** A file the request references (slot 0[3]). */
export interface FileRef {
  fileId: string;
  fileName: string;
}

/** What the emulator reads from a generate request. */
export interface GenerateInput {
  prompt: string;
  files: FileRef[];
  lang: string | null;
  cid: string | null;
  rid: string | null;
  rcid: string | null;
  contextToken: string | null;
  /** Slot 7: 1 = snapshot streaming on (read for the record; answers always stream snapshots). */
  snapshotStreaming: boolean;
  gemId: string | null;
  /** Slot 45: a temporary chat, left out of the history. */
  temporary: boolean;
  /** Slot 59: the per-request UUID. */
  requestUuid: string | null;
}

/** Which form a generate request's inner array takes. */
export interface RequestForm {
  /** How many slots the inner array has: 69 today, 81 or 102 in the newer forms, 3 legacy. */
  slots: number;
  /** Slot 79 of the newer forms: the model selector inside the request (1 Flash, 3 Pro, 6 Lite). */
  modelNumber: number | null;
}

/** The form fields of a generate or batchexecute POST. */
export interface FormFields {
  at: string | null;
  fReq: string | null;
}

/** Parses an urlencoded body; never throws. */
export function parseForm(body: string): FormFields {
  const params = new URLSearchParams(body);
  return { at: params.get('at'), fReq: params.get('f.req') };
}

/** Decodes f.req (`[null,"<inner json>"]`); null when it is malformed or has no prompt. */
export function parseGenerateFreq(fReq: string): GenerateInput | null {
  const inner = decodeInner(fReq);
  if (!inner) {
    return null;
  }
  const message = asArray(inner[0]);
  const prompt = message?.[0];
  if (typeof prompt !== 'string') {
    return null;
  }
  const meta = asArray(inner[2]) ?? [];
  return {
    prompt,
    files: parseFiles(message?.[3]),
    lang: asString(asArray(inner[1])?.[0]),
    cid: asString(meta[0]),
    rid: asString(meta[1]),
    rcid: asString(meta[2]),
    contextToken: asString(meta[9]),
    snapshotStreaming: asArray(inner[7])?.[0] === 1 || inner[7] === 1,
    gemId: asString(inner[19]),
    temporary: inner[45] === 1 || inner[45] === true,
    requestUuid: asString(inner[59]),
  };
}

/** The form of a generate f.req (read apart, so GenerateInput stays what every form shares). */
export function parseRequestForm(fReq: string): RequestForm {
  const inner = decodeInner(fReq) ?? [];
  const modelNumber: unknown = inner[79];
  return { slots: inner.length, modelNumber: typeof modelNumber === 'number' ? modelNumber : null };
}

/** Decodes batchexecute's f.req: `[[[rpcId, "<payload json>", null, "generic"], …]]`. */
export function parseBatchFreq(fReq: string): { rpcId: string; payload: unknown }[] | null {
  const outer = parseJson(fReq);
  const calls = asArray(asArray(outer)?.[0]);
  if (!calls) {
    return null;
  }
  const out: { rpcId: string; payload: unknown }[] = [];
  for (const call of calls) {
    const c = asArray(call);
    if (!c || typeof c[0] !== 'string') {
      return null;
    }
    // Gem payloads use single quotes upstream and are accepted; try JSON, then a lenient read.
    const raw = typeof c[1] === 'string' ? c[1] : 'null';
    out.push({ rpcId: c[0], payload: parseJson(raw) ?? parseJson(raw.replaceAll("'", '"')) });
  }
  return out;
}

function decodeInner(fReq: string): unknown[] | null {
  const outer = asArray(parseJson(fReq));
  const encoded = outer?.[1];
  if (typeof encoded === 'string') {
    return asArray(parseJson(encoded));
  }
  // Some clients send the inner array directly.
  return outer && Array.isArray(outer[0]) ? outer : null;
}

function parseFiles(value: unknown): FileRef[] {
  const out: FileRef[] = [];
  for (const item of asArray(value) ?? []) {
    const entry = asArray(item);
    const idSlot = entry?.[0];
    const fileId = Array.isArray(idSlot) ? asString(idSlot[0] as unknown) : asString(idSlot);
    if (fileId) {
      out.push({ fileId, fileName: asString(entry?.[1]) ?? 'file' });
    }
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function asArray(value: unknown): unknown[] | null {
  return Array.isArray(value) ? (value as unknown[]) : null;
}

function asString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
