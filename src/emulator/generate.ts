/**
 * StreamGenerate: 401 unless signed in, 400 for a wrong `at` or a malformed f.req, then the
 * account's next fault (if any), the model header (unknown id -> 1052) and the answer.
 */
import { planAnswer, type AnswerPlan, type ReceivedFile } from './answer.ts';
import { newContextToken, newId } from './chats.ts';
import { parseForm, parseGenerateFreq, parseRequestForm, type GenerateInput } from './freq.ts';
import { streamTurn, sendInBandError, newImageId, type PlannedTurn } from './generate-stream.ts';
import { drop, readBody, redirect, send, type RequestContext } from './http-io.ts';
import type { FinalParts } from './inner.ts';
import { chooseModel, DEFAULT_MODEL, type EmulatedModel, type ModelChoice } from './models.ts';
import { replyFormFor, type ReplyForm } from './newer-shape.ts';
import { sendUnknownGenerateShape } from './unknown-shapes.ts';
import { sorryUrl } from './www-host.ts';
import type { Fault } from './types.ts';

const FORM_LIMIT_BYTES = 4 * 1024 * 1024;
const MODEL_HEADER = 'x-goog-ext-525001261-jspb';
const UUID_HEADER = 'x-goog-ext-525005358-jspb';
const IN_BAND: Partial<Record<Fault, number>> = {
  usage_limit: 1037,
  ip_blocked: 1060,
  transient: 1013,
  model_invalid: 1052,
  model_inconsistent: 1050,
  followup_rejected: 1097,
};
const HTTP: Partial<Record<Fault, number>> = { http_429: 429, http_500: 500, http_401: 401 };

/** A request that passed the checks. */
interface ValidRequest {
  email: string;
  input: GenerateInput;
  choice: ModelChoice;
  /** Newer request forms (the model selector inside the request) get the newer reply form. */
  form: ReplyForm;
}

/** Handles POST …/BardFrontendService/StreamGenerate. */
export async function handleGenerate(ctx: RequestContext): Promise<void> {
  const valid = await validate(ctx);
  if (!valid) {
    return;
  }
  const { email, input, choice, form } = valid;
  const fault = ctx.state.faults.take({ email, kind: 'generate', followUp: input.cid !== null });
  if (fault) {
    ctx.record.fault = fault;
  }
  const framed = ctx.url.searchParams.get('rt') === 'c';
  const httpStatus = fault ? HTTP[fault] : undefined;
  // A tiered account refuses another tier's ids, a wrong tail, and withdrawn models, as upstream.
  const refused =
    choice.kind === 'invalid' ||
    (choice.kind === 'known' && !ctx.state.plans.admits(email, choice.model.id, choice.tail));
  const code = (fault ? IN_BAND[fault] : undefined) ?? (refused ? 1052 : undefined);
  if (fault === 'reset') {
    drop(ctx);
  } else if (fault === 'sorry') {
    redirect(ctx, sorryUrl(ctx.url));
  } else if (httpStatus !== undefined) {
    send(ctx, httpStatus, httpStatus === 429 ? 'Too Many Requests' : 'Error');
  } else if (code !== undefined) {
    sendInBandError(ctx, code, framed, form);
  } else if (fault === 'unknown_shape') {
    sendUnknownGenerateShape(ctx, framed);
  } else {
    const model = choice.kind === 'known' ? choice.model : DEFAULT_MODEL;
    await streamTurn(ctx, { ...planTurn(ctx, email, input, model), form }, framed, fault);
  }
}

/** Method, session, `at`, f.req and UUID checks; answers the failure itself and returns null. */
async function validate(ctx: RequestContext): Promise<ValidRequest | null> {
  if (ctx.req.method !== 'POST') {
    send(ctx, 405, 'Method Not Allowed', { allow: 'POST' });
    return null;
  }
  const body = (await readBody(ctx.req, FORM_LIMIT_BYTES)).toString('utf8');
  const session = ctx.identity.signedIn ? ctx.identity.session : null;
  if (!session) {
    send(ctx, 401, 'Unauthorized');
    return null;
  }
  const form = parseForm(body);
  const input = form.fReq === null ? null : parseGenerateFreq(form.fReq);
  if (form.at !== session.snlm0e || !input || !uuidMatches(ctx, input)) {
    send(ctx, 400, 'Bad Request');
    return null;
  }
  const choice = chooseModel(headerOf(ctx, MODEL_HEADER));
  ctx.record.prompt = input.prompt;
  ctx.record.cid = input.cid;
  ctx.record.rid = input.rid;
  ctx.record.model =
    choice.kind === 'known' ? choice.model.id : choice.kind === 'invalid' ? choice.id : null;
  ctx.record.fileIds = input.files.map((f) => f.fileId);
  const requestForm = parseRequestForm(form.fReq ?? '');
  ctx.record.requestSlots = requestForm.slots;
  ctx.record.modelNumber = requestForm.modelNumber;
  return { email: session.account.email, input, choice, form: replyFormFor(requestForm.slots) };
}

function planTurn(
  ctx: RequestContext,
  email: string,
  input: GenerateInput,
  model: EmulatedModel,
): Omit<PlannedTurn, 'form'> {
  const existing = input.cid === null ? null : ctx.state.chats.find(input.cid, email);
  const planned = planAnswer({
    prompt: input.prompt,
    turn: (existing?.turns.length ?? 0) + 1,
    files: input.files.map((f) => receivedFile(ctx, f.fileId, f.fileName)),
    thinking: model.thinking,
    earlierPrompts: existing?.turns.map((t) => t.prompt) ?? [],
  });
  const scripted = ctx.state.scripts.take(email);
  const plan: AnswerPlan =
    scripted === null
      ? planned
      : { ...planned, text: scripted, cardText: null, generatedImage: false, webImage: false };
  const chat = existing ?? ctx.state.chats.create(email, plan.title, input.temporary);
  return {
    ids: { cid: chat.cid, rid: newId('r_'), rcid: newId('rc_') },
    chat,
    prompt: input.prompt,
    plan,
    final: finalParts(plan, model, input.prompt),
  };
}

function finalParts(plan: AnswerPlan, model: EmulatedModel, prompt: string): FinalParts {
  const imageId = newImageId();
  const snippet = Array.from(prompt).slice(0, 60).join('');
  return {
    contextToken: newContextToken(),
    modelName: model.displayName,
    generatedImage: plan.generatedImage
      ? {
          url: `https://lh3.googleusercontent.com/gg-dl/${imageId}`,
          alt: `Generated image: ${snippet}`,
          imageId,
        }
      : null,
    webImage: plan.webImage
      ? {
          url: `https://lh3.googleusercontent.com/webimg/${newImageId()}.png`,
          alt: `A picture for: ${snippet}`,
          title: 'Example picture',
        }
      : null,
  };
}

function receivedFile(ctx: RequestContext, fileId: string, fileName: string): ReceivedFile {
  const upload = ctx.state.uploads.get(fileId);
  return upload
    ? { name: fileName, mimeType: upload.mimeType, bytes: upload.bytes }
    : { name: fileName, mimeType: 'unknown', bytes: 0 };
}

/** When both the header and slot 59 carry the request UUID, they must agree. */
function uuidMatches(ctx: RequestContext, input: GenerateInput): boolean {
  const header = headerOf(ctx, UUID_HEADER);
  if (header === undefined || input.requestUuid === null) {
    return true;
  }
  try {
    const parsed: unknown = JSON.parse(header);
    const id: unknown = Array.isArray(parsed) ? parsed[0] : null;
    return typeof id !== 'string' || id.toLowerCase() === input.requestUuid.toLowerCase();
  } catch {
    return true;
  }
}

function headerOf(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
