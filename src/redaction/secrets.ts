/**
 * The values that can still leak, and one matcher over them. Keys and passwords are pinned for the
 * life of the process. Cookie values are kept per cookie (name, domain, path) and a new value
 * replaces the one before last, so the set tracks the live jar instead of every value ever seen.
 * Values the shape patterns already catch are left out of the set. The matcher is rebuilt lazily,
 * at most once per change of the set, however many lines are logged in between.
 */
import { SecretMatcher } from './matcher.ts';
import { isShapedSecret } from './shapes.ts';

const MIN_SECRET_LENGTH = 6;
/** The current value and the one before it: a request in flight may still carry the older. */
const VALUES_PER_COOKIE = 2;
/** Google sets a few dozen cookies; this only stops a flood of odd names from growing the set. */
const MAX_COOKIE_IDENTITIES = 256;

const pinned = new Set<string>();
/** Cookie identity → its latest values, newest last. Map order: least recently set first. */
const live = new Map<string, string[]>();
let matcher: SecretMatcher | null = null;
let rebuilds = 0;

/** What the redaction holds, for tests and diagnostics. Holds no values. */
export interface RedactionStats {
  readonly pinnedValues: number;
  readonly liveValues: number;
  readonly cookieIdentities: number;
  /** Trie states of the current matcher: bounded by the total length of the values in it. */
  readonly matcherStates: number;
  /** How many times the matcher has been built. */
  readonly rebuilds: number;
}

/** A cookie as far as redaction cares. */
export interface SecretCookie {
  readonly name: string;
  readonly value: string;
  readonly domain?: string;
  readonly path?: string;
}

function worthKeeping(value: string | null | undefined): value is string {
  return !!value && value.length >= MIN_SECRET_LENGTH && !isShapedSecret(value);
}

/**
 * Pins a value for the life of the process: API keys, admin keys, the DB password. Never evicted,
 * so only for values bounded by configuration; cookie values go through `registerCookie`.
 */
export function registerSecret(value: string | null | undefined): void {
  if (!worthKeeping(value) || pinned.has(value)) {
    return;
  }
  pinned.add(value);
  matcher = null;
}

/** Pins the password of a connection string such as `postgres://user:password@host/db`. */
export function registerUrlPassword(url: string | null | undefined): void {
  try {
    const { password } = new URL(url ?? '');
    registerSecret(password);
    registerSecret(decodeURIComponent(password));
  } catch {
    // Not a URL, or a malformed escape: the shape rule still blanks `user:…@` in any text.
  }
}

/** Records a cookie's current value; it replaces the value before last of the same cookie. */
export function registerCookie(cookie: SecretCookie): void {
  rememberLive(`${cookie.name}\u0000${cookie.domain ?? ''}\u0000${cookie.path ?? ''}`, cookie.value);
}

/** Records the current value of a rotating token (e.g. Gemini's `at`) under `name`. */
export function registerToken(name: string, value: string | null | undefined): void {
  rememberLive(`\u0001token\u0000${name}`, value);
}

function rememberLive(identity: string, value: string | null | undefined): void {
  if (!value) {
    return;
  }
  const values = live.get(identity);
  if (values?.at(-1) === value) {
    return;
  }
  const next = (values ?? []).filter((v) => v !== value);
  next.push(value);
  const dropped = next.length > VALUES_PER_COOKIE ? next.shift() : undefined;
  live.delete(identity);
  live.set(identity, next);
  let changed = worthKeeping(value) || worthKeeping(dropped);
  if (live.size > MAX_COOKIE_IDENTITIES) {
    const [oldest, oldValues] = live.entries().next().value!;
    live.delete(oldest);
    changed ||= oldValues.some(worthKeeping);
  }
  if (changed) {
    matcher = null;
  }
}

/** The matcher over the pinned and live values, built if the set changed since the last one. */
export function currentMatcher(): SecretMatcher {
  if (matcher === null) {
    const values = new Set(pinned);
    for (const list of live.values()) {
      list.filter(worthKeeping).forEach((v) => values.add(v));
    }
    matcher = new SecretMatcher(values);
    rebuilds += 1;
  }
  return matcher;
}

/** Counts of what is held; no values. */
export function redactionStats(): RedactionStats {
  let liveValues = 0;
  for (const list of live.values()) {
    liveValues += list.filter(worthKeeping).length;
  }
  return {
    pinnedValues: pinned.size,
    liveValues,
    cookieIdentities: live.size,
    matcherStates: matcher?.size ?? 0,
    rebuilds,
  };
}
