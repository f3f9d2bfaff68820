/**
 * The control API under `/__emulator/` on any host, for other processes (`npm run stack`,
 * multi-process tests). It mirrors the Emulator methods and is never recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Cookie } from '../gemini/index.ts';
import type { FrameLogEntry } from './frame-log.ts';
import { BodyTooLargeError, readBody } from './http-io.ts';
import { TIERS, type Tier } from './plans.ts';
import { FAULTS, type Fault, type TunableOptions, type UpstreamRecord } from './types.ts';

/** What the control API drives: the Emulator's own methods. */
export interface ControlTarget {
  createAccount(email: string): { email: string; cookies: Cookie[] };
  injectFault(email: string, fault: Fault, options?: { times?: number }): void;
  clearFaults(email?: string): void;
  records(): UpstreamRecord[];
  clearRecords(): void;
  frames(): FrameLogEntry[];
  clearFrames(): void;
  /** The clock frames are stamped with, so a caller can check its own against it. */
  clockMs(): number;
  setOptions(patch: Partial<TunableOptions>): void;
  scriptAnswers(texts: readonly string[], email?: string): void;
  clearScriptedAnswers(): void;
  setPlan(email: string, plan: { tier?: Tier | null; statusCode?: number | null }): void;
  withdrawModel(modelId: string, email?: string): void;
  restoreModels(): void;
  readonly caCertPem: string;
}

/** The prefix every control route lives under. */
export const CONTROL_PREFIX = '/__emulator/';

const BODY_LIMIT_BYTES = 64 * 1024;
const ms = z.number().nonnegative().finite().optional();
const accountBody = z.object({
  email: z
    .string()
    .trim()
    .regex(/^[^\s@]+@[^\s@]+$/),
});
const faultBody = z.object({
  email: z.string().trim().min(1),
  fault: z.string().refine((f): f is Fault => (FAULTS as readonly string[]).includes(f), {
    message: `fault must be one of ${FAULTS.join(', ')}`,
  }),
  // JSON has no Infinity: "Infinity" or -1 mean "until cleared".
  times: z.union([z.number().int().positive(), z.literal('Infinity'), z.literal(-1)]).optional(),
});
const answersBody = z.object({
  email: z.string().trim().min(1).optional(),
  texts: z.array(z.string()).min(1).max(100),
});
const optionsBody = z.strictObject({
  psidtsTtlMs: ms,
  rotateIntervalMs: ms,
  rotateMinIntervalMs: ms,
  chunkDelayMs: ms,
});

const planBody = z.object({
  email: z.string().trim().min(1),
  tier: z
    .enum(TIERS as [Tier, ...Tier[]])
    .nullable()
    .optional(),
  statusCode: z.number().int().positive().nullable().optional(),
});
const withdrawBody = z.object({
  modelId: z.string().trim().min(1),
  email: z.string().trim().min(1).optional(),
});

type Route = (req: IncomingMessage, url: URL, target: ControlTarget) => Promise<unknown>;

const ROUTES: Record<string, Route> = {
  'POST accounts': async (req, _url, target) => {
    const { email } = accountBody.parse(await readJson(req));
    return target.createAccount(email);
  },
  'POST faults': async (req, _url, target) => {
    const { email, fault, times } = faultBody.parse(await readJson(req));
    const count =
      times === undefined ? 1 : typeof times === 'number' && times > 0 ? times : Infinity;
    target.injectFault(email, fault, { times: count });
    return { ok: true };
  },
  'DELETE faults': async (_req, url, target) => {
    target.clearFaults(url.searchParams.get('email') ?? undefined);
    return { ok: true };
  },
  'GET records': async (_req, _url, target) => target.records(),
  'DELETE records': async (_req, _url, target) => {
    target.clearRecords();
    return { ok: true };
  },
  'GET frames': async (_req, _url, target) => target.frames(),
  'DELETE frames': async (_req, _url, target) => {
    target.clearFrames();
    return { ok: true };
  },
  'GET clock': async (_req, _url, target) => ({ nowMs: target.clockMs() }),
  'POST answers': async (req, _url, target) => {
    const { email, texts } = answersBody.parse(await readJson(req));
    target.scriptAnswers(texts, email);
    return { ok: true };
  },
  'DELETE answers': async (_req, _url, target) => {
    target.clearScriptedAnswers();
    return { ok: true };
  },
  'POST plans': async (req, _url, target) => {
    const { email, tier, statusCode } = planBody.parse(await readJson(req));
    target.setPlan(email, stripUndefined({ tier, statusCode }));
    return { ok: true };
  },
  'POST withdrawn-models': async (req, _url, target) => {
    const { modelId, email } = withdrawBody.parse(await readJson(req));
    target.withdrawModel(modelId, email);
    return { ok: true };
  },
  'DELETE withdrawn-models': async (_req, _url, target) => {
    target.restoreModels();
    return { ok: true };
  },
  'PATCH options': async (req, _url, target) => {
    target.setOptions(stripUndefined(optionsBody.parse(await readJson(req))));
    return { ok: true };
  },
};

/** Serves one control request. */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  target: ControlTarget,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname.slice(CONTROL_PREFIX.length)}`;
  if (route === 'GET ca.pem') {
    res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(target.caCertPem);
    return;
  }
  const handler = ROUTES[route];
  if (!handler) {
    reply(res, 404, { error: `no control route ${route}` });
    return;
  }
  try {
    reply(res, 200, await handler(req, url, target));
  } catch (err) {
    replyError(res, err);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req, BODY_LIMIT_BYTES)).toString('utf8');
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

function replyError(res: ServerResponse, err: unknown): void {
  if (err instanceof BodyTooLargeError) {
    reply(res, 413, { error: 'body too large' });
  } else if (err instanceof z.ZodError) {
    reply(res, 400, {
      error: err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    });
  } else if (err instanceof SyntaxError || err instanceof RangeError) {
    reply(res, 400, { error: err.message });
  } else {
    reply(res, 500, { error: 'internal error' });
  }
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(value));
}

function stripUndefined<T extends object>(patch: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
