/**
 * One upstream call's plumbing: a single abort signal fed by the caller, the client's lifetime
 * and a stall watchdog, and the mapping of whatever was thrown to what the caller should see.
 */
import { AppError } from '../errors.ts';
import { GeminiError } from './errors.ts';
import { createWatchdog, type Watchdog } from './watchdog.ts';

/** An upstream call in progress. */
export interface Call {
  readonly signal: AbortSignal;
  readonly dog: Watchdog;
  /** The error to throw for `err`: the abort reason, a stall, or a classified GeminiError. */
  failure(err: unknown): unknown;
  /** Clears its timer and listeners; `abort` cancels a request still in flight. */
  end(abort: boolean): void;
}

/** Starts a call that aborts with `callerSignal`, with `lifetime`, or after `stallMs` of silence. */
export function startCall(
  callerSignal: AbortSignal | undefined,
  lifetime: AbortSignal,
  stallMs: number,
): Call {
  const controller = new AbortController();
  const dog = createWatchdog(stallMs, () => controller.abort(new Error('stalled')));
  const sources = callerSignal ? [callerSignal, lifetime] : [lifetime];
  const unlink = linkSignals(sources, controller);
  return {
    signal: controller.signal,
    dog,
    failure(err) {
      const aborted = sources.find((s) => s.aborted);
      if (aborted) {
        return abortReason(aborted);
      }
      return dog.fired
        ? new GeminiError('transient', `Gemini stalled: no data for ${stallMs} ms.`, { cause: err })
        : classifyThrown(err);
    },
    end(abort) {
      dog.stop();
      unlink();
      if (abort && !controller.signal.aborted) {
        controller.abort(new Error('released'));
      }
    },
  };
}

/** Aborts `controller` when any source aborts; returns the function that unlinks them. */
function linkSignals(sources: readonly AbortSignal[], controller: AbortController): () => void {
  const listeners = sources.map((s) => [s, () => controller.abort(s.reason)] as const);
  for (const [s, fn] of listeners) {
    if (s.aborted) {
      fn();
    } else {
      s.addEventListener('abort', fn, { once: true });
    }
  }
  return () => {
    for (const [s, fn] of listeners) {
      s.removeEventListener('abort', fn);
    }
  };
}

/**
 * Errors already classified (a GeminiError, or an AppError from the cookie source) pass as they
 * are; anything else thrown by a request is a network failure.
 */
export function classifyThrown(err: unknown): AppError {
  if (err instanceof AppError) {
    return err;
  }
  return new GeminiError('transient', `Network error talking to Google (${describeError(err)}).`, {
    cause: err,
  });
}

/** The caller's abort reason as an Error. */
export function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('The operation was aborted.', 'AbortError');
}

/** A short, secret-free description of a network error: its code or class, never its text. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    return code;
  }
  return err instanceof Error ? err.name : 'unknown error';
}
