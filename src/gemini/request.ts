/**
 * Builds the StreamGenerate request (protocol doc §3): query string, headers and the form whose
 * `f.req` double-encodes the inner array, in the 69-slot form (gemini_webapi v2) or the newer
 * 102-slot one, which also names the model inside the request (slot 79). Slot meanings are
 * snapshots kept here.
 */
import { randomUUID } from 'node:crypto';
import type { GeminiError } from './errors.ts';
import { formBody } from './form.ts';
import type { HttpResponse } from './http.ts';
import { MODEL_HEADER } from './models.ts';
import { redirectTarget, replyFailure, type SessionTokens } from './tokens.ts';
import type { ChatMetadata, ModelSpec, UploadedFile } from './types.ts';
import {
  GEMINI_PAGE_HEADERS,
  MODEL_COMPANION_HEADERS,
  REQUEST_UUID_HEADER,
  STREAM_GENERATE_URL,
} from './wire.ts';

/** Everything one StreamGenerate call is built from. */
export interface StreamGenerateInput {
  readonly tokens: SessionTokens;
  readonly reqId: number;
  /** `hl` and slot 1. */
  readonly language: string;
  readonly prompt: string;
  readonly model: ModelSpec;
  readonly files?: readonly UploadedFile[] | undefined;
  readonly chat?: ChatMetadata | null | undefined;
  /** Slot 59 and its header; random by default. */
  readonly requestUuid?: string;
  /** The inner array's form (GEMINI_REQUEST_FORM); 69 by default. */
  readonly form?: RequestForm;
}

/** The inner array forms kept side by side: 69 slots, or 102 with the model number at 79. */
export type RequestForm = 69 | 102;

/** Every request form, for configuration. */
export const REQUEST_FORMS: readonly RequestForm[] = [69, 102];

/** A ready-to-send StreamGenerate request. */
export interface BuiltRequest {
  url: string;
  headers: Record<string, string>;
  /** `application/x-www-form-urlencoded` body. */
  body: string;
  /** The uppercase UUID in slot 59. */
  requestUuid: string;
}

/**
 * Slot 79 of the 102-slot form: the model family's number as newer clients send it (1 Flash,
 * 3 Pro, 6 Flash Lite); the header still selects the exact model.
 */
function modelNumber(model: ModelSpec): number | null {
  if (model.header === null) {
    return null;
  }
  const name = model.name.toLowerCase();
  return name.includes('lite') ? 6 : name.includes('pro') ? 3 : 1;
}

/** A `_reqid` sequence: a random start in 10000–99999, then +100000 per request. */
export function createReqIdCounter(random: () => number = Math.random): () => number {
  let next = 10_000 + Math.floor(random() * 90_000);
  return () => {
    const id = next;
    next += 100_000;
    return id;
  };
}

/** The inner f.req array: 69 or 102 slots, null unless the protocol doc lists them. */
export function buildInnerRequest(input: StreamGenerateInput, requestUuid: string): unknown[] {
  const form = input.form ?? 69;
  const inner: unknown[] = new Array<unknown>(form).fill(null);
  const files = input.files?.length ? input.files.map((f) => [[f.fileId], f.fileName]) : null;
  const chat = input.chat;
  inner[0] = [input.prompt, 0, null, files, null, null, 0];
  inner[1] = [input.language];
  inner[2] = [
    chat?.cid ?? '',
    chat?.rid ?? '',
    chat?.rcid ?? '',
    ...new Array<null>(6).fill(null),
    chat?.contextToken ?? '',
  ];
  // Fixed values the web app sends; 6 and 7 switch on snapshot streaming.
  inner[6] = [1];
  inner[7] = 1;
  inner[10] = 1;
  inner[11] = 0;
  inner[17] = [[0]];
  inner[18] = 0;
  inner[27] = 1;
  inner[30] = [4];
  inner[41] = [1];
  inner[53] = 0;
  inner[59] = requestUuid;
  inner[61] = [];
  inner[68] = 2;
  if (form === 102) {
    inner[79] = modelNumber(input.model);
  }
  return inner;
}

/** URL, headers and form body of one StreamGenerate call. */
export function buildStreamGenerate(input: StreamGenerateInput): BuiltRequest {
  const requestUuid = (input.requestUuid ?? randomUUID()).toUpperCase();
  const query = new URLSearchParams({
    hl: input.language,
    _reqid: String(input.reqId),
    rt: 'c',
  });
  if (input.tokens.bl) {
    query.set('bl', input.tokens.bl);
  }
  if (input.tokens.fsid) {
    query.set('f.sid', input.tokens.fsid);
  }
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
    ...GEMINI_PAGE_HEADERS,
    'x-same-domain': '1',
    [REQUEST_UUID_HEADER]: JSON.stringify([requestUuid, 1]),
  };
  if (input.model.header !== null) {
    headers[MODEL_HEADER] = input.model.header;
    Object.assign(headers, MODEL_COMPANION_HEADERS);
  }
  const inner = buildInnerRequest(input, requestUuid);
  const body = formBody({
    at: input.tokens.at,
    'f.req': JSON.stringify([null, JSON.stringify(inner)]),
  });
  return { url: `${STREAM_GENERATE_URL}?${query.toString()}`, headers, body, requestUuid };
}

/** Classifies a non-200 StreamGenerate reply, reading its body only for a 429. */
export async function streamGenerateFailure(res: HttpResponse): Promise<GeminiError> {
  const next = redirectTarget(res);
  let sorryBody = false;
  if (res.status === 429 && !next) {
    // A 429 that is really the /sorry interstitial names it in its body.
    sorryBody = (await res.text().catch(() => '')).includes('/sorry/');
  } else {
    await res.discard();
  }
  return replyFailure('StreamGenerate', res.status, res.url, next, sorryBody);
}
