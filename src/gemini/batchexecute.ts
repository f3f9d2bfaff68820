/**
 * batchexecute (protocol doc §7): one call carries RPCs by id (otAQ7b account status, …) and the
 * reply holds one `wrb.fr` envelope per RPC, its payload JSON-encoded once more. Unknown shapes
 * are reported as drift; an in-band error or a non-200 is a GeminiError like StreamGenerate's.
 */
import type { DriftSink } from './drift.ts';
import { errorForCode, GeminiError } from './errors.ts';
import { readFrames } from './frames.ts';
import { formBody } from './form.ts';
import type { HttpResponse } from './http.ts';
import { jspbArray, jspbAt, jspbNumber, jspbString } from './jspb.ts';
import { MODEL_HEADER } from './models.ts';
import { redirectTarget, replyFailure, type SessionTokens } from './tokens.ts';
import type { GoogleTransport } from './transport.ts';
import { BATCH_EXECUTE_URL, GEMINI_PAGE_HEADERS } from './wire.ts';

/** One batchexecute call: which RPC, with which payload. */
export interface BatchCall {
  readonly tokens: SessionTokens;
  readonly reqId: number;
  readonly language: string;
  readonly rpcId: string;
  readonly payload: unknown;
  readonly signal: AbortSignal;
  readonly onDrift: DriftSink;
}

// The web app sends the model selector without a model on batchexecute.
const BATCH_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
  ...GEMINI_PAGE_HEADERS,
  'x-same-domain': '1',
  [MODEL_HEADER]: '[1,null,null,null,null,null,null,null,[4]]',
  'x-goog-ext-73010989-jspb': '[0]',
};
const KNOWN_TAGS = new Set(['wrb.fr', 'di', 'af.httprm', 'e']);

/** Sends one RPC and returns its decoded payload. */
export async function callBatchExecute(
  transport: GoogleTransport,
  call: BatchCall,
): Promise<unknown> {
  const query = new URLSearchParams({
    rpcids: call.rpcId,
    hl: call.language,
    _reqid: String(call.reqId),
    rt: 'c',
    'source-path': '/app',
  });
  if (call.tokens.bl) {
    query.set('bl', call.tokens.bl);
  }
  if (call.tokens.fsid) {
    query.set('f.sid', call.tokens.fsid);
  }
  const body = formBody({
    at: call.tokens.at,
    'f.req': JSON.stringify([[[call.rpcId, JSON.stringify(call.payload), null, 'generic']]]),
  });
  const res = await transport.send(`${BATCH_EXECUTE_URL}?${query.toString()}`, {
    method: 'POST',
    headers: BATCH_HEADERS,
    body,
    signal: call.signal,
  });
  if (res.status !== 200) {
    await res.discard();
    throw replyFailure('batchexecute', res.status, res.url, redirectTarget(res));
  }
  return readRpcReply(res, call.rpcId, call.onDrift);
}

/** The payload of `rpcId` in a batchexecute reply. */
export async function readRpcReply(
  res: Pick<HttpResponse, 'body'>,
  rpcId: string,
  onDrift: DriftSink,
): Promise<unknown> {
  let found: { payload: unknown } | null = null;
  let failure: GeminiError | null = null;
  for await (const frame of readFrames(res.body, () => onDrift('frame_unparsable'))) {
    if (!Array.isArray(frame)) {
      onDrift('frame_not_array');
      continue;
    }
    for (const envelope of frame as unknown[]) {
      const tag = jspbString(envelope, 0);
      if (tag === undefined || !KNOWN_TAGS.has(tag)) {
        onDrift('envelope_unknown');
      } else if (tag === 'wrb.fr' && jspbString(envelope, 1) === rpcId) {
        const read = readEnvelope(envelope, onDrift);
        if (read.kind === 'payload') {
          found = { payload: read.payload };
        } else if (read.kind === 'error') {
          failure = read.error;
        }
      }
    }
  }
  if (found) {
    return found.payload;
  }
  if (failure) {
    throw failure;
  }
  onDrift('rpc_missing');
  throw new GeminiError('transient', `batchexecute: the reply held no ${rpcId} answer.`);
}

function readEnvelope(
  envelope: unknown,
  onDrift: DriftSink,
):
  { kind: 'payload'; payload: unknown } | { kind: 'error'; error: GeminiError } | { kind: 'none' } {
  const text = jspbString(envelope, 2);
  if (text !== undefined) {
    try {
      return { kind: 'payload', payload: JSON.parse(text) as unknown };
    } catch {
      onDrift('payload_not_json');
      return { kind: 'none' };
    }
  }
  const status = jspbAt(envelope, 5);
  const code = jspbArray(status, 2)
    .map((detail) => jspbNumber(detail, 1, 0))
    .find((c) => c !== undefined);
  if (code !== undefined) {
    return { kind: 'error', error: errorForCode(code, jspbNumber(status, 0) ?? null) };
  }
  onDrift('error_shape');
  return { kind: 'none' };
}
