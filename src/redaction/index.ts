/**
 * @module redaction
 * Keeps secrets out of log lines. Name and shape rules do most of the work at a fixed cost; the
 * values they cannot recognise (pinned keys, the live cookie jar, the current tokens) are found by
 * one Aho–Corasick matcher, rebuilt only when that set changes.
 */
import { currentMatcher } from './secrets.ts';
import { REDACTED, isSecretKey, redactShapes } from './shapes.ts';

export { REDACTED, isSecretKey } from './shapes.ts';
export {
  redactionStats,
  registerCookie,
  registerSecret,
  registerToken,
  registerUrlPassword,
  type RedactionStats,
  type SecretCookie,
} from './secrets.ts';

const MIN_TEXT_LENGTH = 6;
const MAX_DEPTH = 8;

/** Replaces every secret inside `text`: registered values first, then shapes. */
export function redactText(text: string): string {
  if (text.length < MIN_TEXT_LENGTH) {
    return text;
  }
  const spans = currentMatcher().find(text);
  let out = text;
  for (let i = spans.length - 1; i >= 0; i -= 1) {
    const [start, end] = spans[i]!;
    out = `${out.slice(0, start)}${REDACTED}${out.slice(end)}`;
  }
  return redactShapes(out);
}

/** Deep copy of `value` with secret keys blanked and secrets in strings replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return redactText(value);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (depth > MAX_DEPTH) {
    // Not walked, so not checked: leave it out rather than print it unredacted.
    return '[too deep]';
  }
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      stack: redactText(value.stack ?? ''),
    };
  }
  if (Array.isArray(value)) {
    return value.map((v) => redact(v, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}
