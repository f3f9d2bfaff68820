/**
 * @module logging
 * winston, JSON lines, every line passed through `redact` (src/redaction): keys that name a secret
 * are blanked, Google cookie shapes are replaced by pattern, and the values registered with
 * `registerSecret` (keys, pinned), `registerCookie` (the live jar) and `registerToken` are
 * replaced in any string.
 */
import winston from 'winston';
import { redact } from './redaction/index.ts';

export type Logger = winston.Logger;

export {
  redact,
  redactText,
  redactionStats,
  registerCookie,
  registerSecret,
  registerToken,
  registerUrlPassword,
} from './redaction/index.ts';

const redactFormat = winston.format((info) => {
  const sym = Object.getOwnPropertySymbols(info);
  const clean = redact({ ...info }) as winston.Logform.TransformableInfo;
  for (const s of sym) {
    (clean as unknown as Record<symbol, unknown>)[s] = (info as unknown as Record<symbol, unknown>)[s];
  }
  return clean;
});

const LEVELS: Record<string, number> = winston.config.npm.levels;

/** Drops lines below the logger's current level (read per line: the level may be changed). */
function dropDisabled(level: () => string): winston.Logform.Format {
  return winston.format((info) => {
    const wanted = LEVELS[level()] ?? LEVELS['info']!;
    return (LEVELS[info.level] ?? 0) <= wanted ? info : false;
  })();
}

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
  const logger: Logger = winston.createLogger({
    level: debug ? 'debug' : 'info',
    silent,
    format: winston.format.combine(
      // winston formats a line before its transports drop it by level: drop it first, so a
      // disabled debug line on the request path costs no redaction.
      dropDisabled(() => logger.level),
      winston.format.errors({ stack: true }),
      redactFormat(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports,
  });
  skipDisabledLevels(logger);
  return logger;
}

/**
 * winston builds a line and pipes it through its streams before any format can drop it: a
 * disabled debug line on the request path cost about 60 µs. A level no transport wants now
 * returns at once; child loggers inherit this, and a level raised later is honoured.
 */
function skipDisabledLevels(logger: Logger): void {
  const methods = logger as unknown as Record<string, (...args: unknown[]) => Logger>;
  for (const level of Object.keys(LEVELS)) {
    const write = methods[level];
    if (write) {
      methods[level] = function (this: Logger, ...args: unknown[]): Logger {
        return this.isLevelEnabled(level) ? write.apply(this, args) : this;
      };
    }
  }
}

/** A child logger that tags every line with its module. */
export function childLogger(parent: Logger, module: string): Logger {
  return parent.child({ module });
}
