/**
 * @module gateway/console/sessions
 * Console sessions, in this process's memory: the cookie carries only a random session id. The
 * admin key stays here (never in a cookie, a page or a log), because the worker admin routes the
 * console calls want an admin key, and the operator's own is the one whose id the logs name.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../../http/index.ts';

/** One signed-in operator. */
export interface ConsoleSession {
  readonly id: string;
  /** Sent back with every action (header or form field); tied to this session. */
  readonly csrfToken: string;
  readonly caller: Caller;
  /** The admin key signed in with; only ever sent to the workers' admin routes. */
  readonly key: string;
  readonly createdAtMs: number;
  lastSeenMs: number;
}

/** Options of SessionStore. */
export interface SessionStoreOptions {
  /** A session unused this long ends. */
  readonly idleMs?: number;
  /** A session ends this long after sign-in, used or not. */
  readonly maxAgeMs?: number;
  /** Oldest sessions are dropped past this many. */
  readonly maxSessions?: number;
  readonly now?: () => number;
}

const token = (): string => randomBytes(32).toString('base64url');

/** True when two tokens are equal, in constant time. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The sessions of one gateway process. */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly idleMs: number;
  private readonly maxAgeMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.idleMs = options.idleMs ?? 8 * 3_600_000;
    this.maxAgeMs = options.maxAgeMs ?? 24 * 3_600_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Starts a session for a key already identified as `caller`. */
  create(key: string, caller: Caller): ConsoleSession {
    const now = this.now();
    const session: ConsoleSession = {
      id: token(),
      csrfToken: token(),
      caller,
      key,
      createdAtMs: now,
      lastSeenMs: now,
    };
    this.sessions.set(session.id, session);
    for (const id of this.sessions.keys()) {
      if (this.sessions.size <= this.maxSessions) {
        break;
      }
      this.sessions.delete(id);
    }
    return session;
  }

  /** The live session with this id (and marks it used), or null. */
  get(id: string | null): ConsoleSession | null {
    const session = id === null ? undefined : this.sessions.get(id);
    if (!session) {
      return null;
    }
    const now = this.now();
    if (now - session.lastSeenMs > this.idleMs || now - session.createdAtMs > this.maxAgeMs) {
      this.sessions.delete(session.id);
      return null;
    }
    session.lastSeenMs = now;
    return session;
  }

  /** Ends a session; idempotent. */
  delete(id: string): void {
    this.sessions.delete(id);
  }
}
