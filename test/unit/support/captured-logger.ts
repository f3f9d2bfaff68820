/**
 * A real logger (JSON lines, redaction as in production) whose output a test reads back: to see
 * that a failure was logged, or that a secret never was.
 */
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../../src/logging.ts';

/** The logger, and what it has written so far. */
export interface CapturedLogger {
  readonly logger: Logger;
  /** Everything written, as one string. */
  readonly text: () => string;
  /** Each line written, empty ones left out. */
  readonly lines: () => string[];
}

/** A logger writing into memory; with `debug`, debug lines too. */
export function capturedLogger(options: { debug?: boolean } = {}): CapturedLogger {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString('utf8');
  });
  return {
    logger: createLogger({ stream, debug: options.debug ?? false }),
    text: () => written,
    lines: () => written.split('\n').filter(Boolean),
  };
}
