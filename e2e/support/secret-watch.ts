/**
 * Captures a logger's lines and the cookie values a test has seen, so the test can show at the
 * end that no value reached the logs.
 */
import { Writable } from 'node:stream';
import type { Cookie } from '../../src/gemini/index.ts';
import { createLogger, type Logger } from '../../src/logging.ts';

export interface SecretWatch {
  readonly logger: Logger;
  readonly lines: string[];
  /** Every cookie value seen (6 characters or more). */
  readonly seen: Set<string>;
  /** Notes the values of `cookies` and returns a copy of them. */
  see: (cookies: readonly Cookie[]) => Cookie[];
}

export function watchSecrets(): SecretWatch {
  const lines: string[] = [];
  const seen = new Set<string>();
  const logger = createLogger({
    debug: true,
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  return {
    logger,
    lines,
    seen,
    see: (cookies) => {
      cookies.forEach((c) => c.value.length >= 6 && seen.add(c.value));
      return [...cookies];
    },
  };
}
