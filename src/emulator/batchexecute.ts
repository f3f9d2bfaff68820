/**
 * batchexecute: the init and history RPCs, minimal but well-formed. otAQ7b reports 1000 signed
 * in (1016 signed out) and the model list; ESY5D settings; MaZiqc lists chats; hNvQHb reads one.
 */
import type { Chat } from './chats.ts';
import { bookkeepingEnvelopes, FrameWriter, rpcEnvelope, type Envelope } from './frames.ts';
import { parseBatchFreq, parseForm } from './freq.ts';
import { readBody, send, type RequestContext } from './http-io.ts';
import { unknownAccountStatusShape } from './unknown-shapes.ts';

const FORM_LIMIT_BYTES = 1024 * 1024;

/** Handles POST …/data/batchexecute. */
export async function handleBatchExecute(ctx: RequestContext): Promise<void> {
  if (ctx.req.method !== 'POST') {
    send(ctx, 405, 'Method Not Allowed', { allow: 'POST' });
    return;
  }
  const form = parseForm((await readBody(ctx.req, FORM_LIMIT_BYTES)).toString('utf8'));
  const session = ctx.identity.signedIn ? ctx.identity.session : null;
  const calls = form.fReq === null ? null : parseBatchFreq(form.fReq);
  // Guests may call without a token; a signed-in call needs the session's.
  if (!calls || calls.length === 0 || (session && form.at !== session.snlm0e)) {
    send(ctx, 400, 'Bad Request');
    return;
  }
  const email = session?.account.email ?? null;
  const envelopes: Envelope[] = calls.map(({ rpcId, payload }) =>
    rpcEnvelope(rpcId, answerRpc(ctx, rpcId, payload, email)),
  );
  const writer = new FrameWriter();
  const body =
    writer.prefix() +
    writer.frame(envelopes) +
    writer.frame(bookkeepingEnvelopes(3)) +
    writer.trailer();
  send(ctx, 200, body, { 'content-type': 'application/json; charset=utf-8' });
}

function answerRpc(
  ctx: RequestContext,
  rpcId: string,
  payload: unknown,
  email: string | null,
): unknown {
  switch (rpcId) {
    case 'otAQ7b':
      return accountStatus(ctx, email);
    case 'ESY5D':
      return [[['bard_activity_enabled', null, email !== null]]];
    case 'MaZiqc':
      return [null, null, email === null ? [] : ctx.state.chats.list(email).map(chatSummary)];
    case 'hNvQHb':
      return readChat(ctx, payload, email);
    default:
      return [];
  }
}

/**
 * [14] status code (1000 signed in, 1016 guest, or the account's override such as 1060), [15] the
 * models offered as [id, displayName, description], [16] tier flags, [17] capability flags.
 */
function accountStatus(ctx: RequestContext, email: string | null): unknown {
  const plans = ctx.state.plans;
  const models =
    email === null ? plans.modelsFor('').filter((m) => !m.thinking) : plans.modelsFor(email);
  if (ctx.state.faults.take({ email, kind: 'batchexecute' }) === 'status_shape') {
    ctx.record.fault = 'status_shape';
    return unknownAccountStatusShape(models);
  }
  const plan = email === null ? null : plans.planOf(email);
  const status: unknown[] = new Array<unknown>(18).fill(null);
  status[14] = email === null ? 1016 : (plans.statusCodeOf(email) ?? 1000);
  status[15] = models.map((m) => [m.id, m.displayName, m.description]);
  status[16] = plan ? [...plan.tierFlags] : [];
  status[17] = plan ? [...plan.capabilityFlags] : [];
  return status;
}

function chatSummary(chat: Chat): unknown[] {
  const ms = chat.updatedAtMs;
  return [chat.cid, chat.title, false, null, null, [Math.floor(ms / 1000), (ms % 1000) * 1e6]];
}

/** Turns newest first: turn[2][0][0] user text, turn[3][0] candidates. */
function readChat(ctx: RequestContext, payload: unknown, email: string | null): unknown[] {
  const cid = Array.isArray(payload) && typeof payload[0] === 'string' ? payload[0] : null;
  const chat = cid !== null && email !== null ? ctx.state.chats.find(cid, email) : null;
  if (!chat) {
    return [[]];
  }
  const turns = [...chat.turns]
    .reverse()
    .map((t) => [
      [chat.cid, t.rid],
      [chat.cid, t.rid, t.rcid],
      [[t.prompt]],
      [[[t.rcid, [t.answer]]]],
      [Math.floor(t.atMs / 1000), (t.atMs % 1000) * 1e6],
    ]);
  return [turns];
}
