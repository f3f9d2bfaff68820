/**
 * @module logging
 * winston, JSON lines. Two layers keep secrets out of logs: keys that name a secret (cookie,
 * authorization, the `at` token, passwords) are blanked wherever they appear, and every value
 * registered with `registerSecret` (cookie values, API keys, tokens) is replaced in any string.
 */
import winston from 'winston';

export type Logger = winston.Logger;

const REDACTED = '[REDACTED]';
const SECRET_KEYS =
  /^(cookie|set-cookie|authorization|proxy-authorization|at|snlm0e|password|db_password|api_keys?|cookies|__secure-.*|x-api-key)$/i;
const MIN_SECRET_LENGTH = 6;
const MAX_SECRETS = 2000;
const secrets = new Set<string>();
let secretPattern: RegExp | null = null;

/** Marks a value as secret: it is replaced wherever it would reach a log line. */
export function registerSecret(value: string | null | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) {
    return;
  }
  secrets.add(value);
  // Rotated cookies register a new value every few minutes; the oldest are long dead.
  if (secrets.size > MAX_SECRETS) {
    secrets.delete(secrets.values().next().value!);
  }
  secretPattern = null;
}

/** Replaces every registered secret inside `text`. */
export function redactText(text: string): string {
  if (secrets.size === 0) {
    return text;
  }
  secretPattern ??= new RegExp(
    [...secrets]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  return text.replace(secretPattern, REDACTED);
}

/** Deep copy of `value` with secret keys blanked and registered secrets replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return redactText(value);
  }
  if (value === null || typeof value !== 'object' || depth > 8) {
    return value;
  }
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), stack: redactText(value.stack ?? '') };
  }
  if (Array.isArray(value)) {
    return value.map((v) => redact(v, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  const sym = Object.getOwnPropertySymbols(info);
  const clean = redact({ ...info }) as winston.Logform.TransformableInfo;
  for (const s of sym) {
    (clean as unknown as Record<symbol, unknown>)[s] = (info as unknown as Record<symbol, unknown>)[s];
  }
  return clean;
});

export interface LoggerOptions {
  readonly debug?: boolean;
  /** Extra transport, e.g. a stream that tests capture. */
  readonly stream?: NodeJS.WritableStream;
  readonly silent?: boolean;
}

/** The root logger. JSON on stdout; `debug` turns on debug lines. */
export function createLogger({ debug = false, stream, silent = false }: LoggerOptions = {}): Logger {
  const transports: winston.transport[] = [
    stream
      ? new winston.transports.Stream({ stream })
      : new winston.transports.Console({ stderrLevels: [] }),
  ];
  return winston.createLogger({
    level: debug ? 'debug' : 'info',
    silent,
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      redactFormat(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports,
  });
}

/** A child logger that tags every line with its module. */
export function childLogger(parent: Logger, module: string): Logger {
  return parent.child({ module });
}
