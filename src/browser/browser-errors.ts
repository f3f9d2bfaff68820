/**
 * The two ways the browser side says "not now": Chrome is away, or the Google session is gone.
 * Both are 503 with Retry-After, so clients and SDKs retry later.
 */
import { ServiceUnavailableError } from '../errors.ts';

/** Retry-After while Chrome restarts (Kasm relaunches it in about a second). */
export const UNREACHABLE_RETRY_AFTER_S = 5;
/** Retry-After while a person has to sign in over VNC. */
export const LOGIN_RETRY_AFTER_S = 60;

/** Chrome cannot be reached over CDP (closed, restarting, or a call timed out). */
export function browserUnreachableError(detail: string, cause?: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `The worker's browser is unreachable (${detail}); retry shortly.`,
    UNREACHABLE_RETRY_AFTER_S,
    { code: 'browser_unreachable', cause },
  );
}

/** The Google session in Chrome is signed out or dead. */
export function loginRequiredError(): ServiceUnavailableError {
  return new ServiceUnavailableError(
    "Google sign-in required: sign in to Google again in Chrome over VNC (this worker's Kasm desktop).",
    LOGIN_RETRY_AFTER_S,
    { code: 'login_required' },
  );
}
