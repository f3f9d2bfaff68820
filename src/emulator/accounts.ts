/**
 * Accounts and sessions. An account has a stable __Secure-1PSID; each sign-in opens a session
 * whose __Secure-1PSIDTS values expire after the TTL. A request is signed in when its PSID is
 * known, its PSIDTS belongs to a live session of that account, and that value is current.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { registerSecret } from '../logging.ts';

/** A Google account; its cookie values live as long as the account. */
export interface Account {
  readonly email: string;
  readonly psid: string;
  readonly psid3: string;
  readonly sid: string;
  readonly hsid: string;
  readonly ssid: string;
  readonly apisid: string;
  readonly sapisid: string;
  /** Numeric Gaia-like id, shown by ListAccounts. */
  readonly gaiaId: string;
}

/** One signed-in browser session. */
export interface Session {
  readonly id: string;
  readonly account: Account;
  /** Every PSIDTS minted for this session, with its issue time. */
  readonly psidtsIssuedAtMs: Map<string, number>;
  currentPsidts: string;
  signedOut: boolean;
  lastRotateAtMs: number | null;
  /** The `at` token the /app page hands out for this session. */
  readonly snlm0e: string;
}

/** Who a request's cookies identify. */
export interface Identity {
  account: Account | null;
  session: Session | null;
  /** Issue time of the PSIDTS sent, when it belongs to the session. */
  psidtsIssuedAtMs: number | null;
  signedIn: boolean;
}

/** The account store. */
export interface AccountStore {
  /** Returns the account for `email`, creating it if new. */
  ensureAccount(email: string): Account;
  /** Signs `email` in: a new session with a fresh PSIDTS. */
  createSession(email: string): Session;
  /** Identifies the sender of `cookies` (name -> value). */
  identify(cookies: ReadonlyMap<string, string>): Identity;
  /** Mints the session's next PSIDTS (older values stay valid until they expire). */
  rotate(session: Session): string;
  /** Kills a session: its cookies stop working at once. */
  signOut(session: Session): void;
  /** Kills every session of an account. */
  signOutAll(account: Account): void;
}

/** Clock and TTL the store reads at every check, so option changes apply at once. */
export interface AccountStoreDeps {
  now(): number;
  psidtsTtlMs(): number;
}

interface Indexes {
  byEmail: Map<string, Account>;
  byPsid: Map<string, Account>;
  sessionByPsidts: Map<string, Session>;
  sessionsByEmail: Map<string, Session[]>;
}

/** Creates an empty account store. */
export function createAccountStore(deps: AccountStoreDeps): AccountStore {
  const ix: Indexes = {
    byEmail: new Map(),
    byPsid: new Map(),
    sessionByPsidts: new Map(),
    sessionsByEmail: new Map(),
  };
  return {
    ensureAccount: (email) => ensureAccount(ix, email),
    createSession: (email) => openSession(ix, deps, ensureAccount(ix, email)),
    identify: (cookies) => identify(ix, deps, cookies),
    rotate(session) {
      session.lastRotateAtMs = deps.now();
      return mint(ix, deps, session);
    },
    signOut(session) {
      session.signedOut = true;
    },
    signOutAll(account) {
      for (const session of ix.sessionsByEmail.get(account.email) ?? []) {
        session.signedOut = true;
      }
    },
  };
}

function ensureAccount(ix: Indexes, email: string): Account {
  const key = normalizeEmail(email);
  let account = ix.byEmail.get(key);
  if (!account) {
    account = newAccount(key);
    ix.byEmail.set(key, account);
    ix.byPsid.set(account.psid, account);
  }
  return account;
}

function openSession(ix: Indexes, deps: AccountStoreDeps, account: Account): Session {
  const session: Session = {
    id: randomUUID(),
    account,
    psidtsIssuedAtMs: new Map(),
    currentPsidts: '',
    signedOut: false,
    lastRotateAtMs: null,
    snlm0e: secret(`AKEyX${randomBytes(21).toString('base64url')}:${deps.now()}`),
  };
  mint(ix, deps, session);
  const list = ix.sessionsByEmail.get(account.email) ?? [];
  list.push(session);
  ix.sessionsByEmail.set(account.email, list);
  return session;
}

function mint(ix: Indexes, deps: AccountStoreDeps, session: Session): string {
  const value = secret(`sidts-CjEB${randomBytes(48).toString('base64url')}`);
  session.psidtsIssuedAtMs.set(value, deps.now());
  session.currentPsidts = value;
  ix.sessionByPsidts.set(value, session);
  return value;
}

function identify(
  ix: Indexes,
  deps: AccountStoreDeps,
  cookies: ReadonlyMap<string, string>,
): Identity {
  const account = ix.byPsid.get(cookies.get('__Secure-1PSID') ?? '') ?? null;
  const psidts = cookies.get('__Secure-1PSIDTS') ?? '';
  const found = ix.sessionByPsidts.get(psidts);
  const session = found && found.account === account ? found : null;
  const issuedAt = session?.psidtsIssuedAtMs.get(psidts) ?? null;
  const current = issuedAt !== null && deps.now() - issuedAt < deps.psidtsTtlMs();
  return {
    account,
    session,
    psidtsIssuedAtMs: issuedAt,
    signedIn: session !== null && !session.signedOut && current,
  };
}

/** Emails compare case-insensitively, as Google's do. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function newAccount(email: string): Account {
  const token = (n: number): string => secret(randomBytes(n).toString('base64url'));
  return {
    email,
    psid: secret(`g.a000${randomBytes(66).toString('base64url')}`),
    psid3: secret(`g.a000${randomBytes(66).toString('base64url')}`),
    sid: secret(`g.a000${randomBytes(66).toString('base64url')}`),
    hsid: token(12),
    ssid: token(12),
    apisid: `${token(12)}/${token(18)}`,
    sapisid: `${token(12)}/${token(18)}`,
    gaiaId: String(100_000_000_000_000_000n + BigInt(`0x${randomBytes(7).toString('hex')}`)),
  };
}

function secret(value: string): string {
  registerSecret(value);
  return value;
}
