/**
 * Bounds a promise in time. Every CDP call goes through this: a hung Chrome must turn into a
 * clear error, never a request that waits forever.
 */

/** Resolves or rejects like `promise`, or rejects with `onTimeout()` after `timeoutMs`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
