/**
 * The synced half of AccountState: local fields, the shared store, the file mirror and change
 * events. AccountState adds the decisions on top.
 */
import { createLogger, type Logger } from '../logging.ts';
import type { AccountStore, StoredAccount } from './account-store.ts';
import { laterOf, phaseOf, sameCooldown } from './cooldown.ts';
import { writeStateFile } from './state-file.ts';
import type { AccountSnapshot, Cooldown, LoginState } from './types.ts';

/** What the record needs to know. */
export interface AccountRecordOptions {
  readonly account: string;
  readonly dataDir: string;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** Local copy of one account's shared record, kept in step with the store and the file. */
export abstract class AccountRecord {
  readonly account: string;
  protected readonly log: Logger;
  protected readonly now: () => number;
  protected cooldown: Cooldown | null = null;
  protected loginState: LoginState = 'unknown';
  protected lastSuccessAt: number | null = null;
  protected probingElsewhere = false;
  protected heldProbe: string | null = null;
  private sharedOk = true;
  /** The file's cooldown has been reconciled with the shared store. */
  private merged = false;
  private fileCooldown: Cooldown | null = null;
  private readonly listeners = new Set<(snapshot: AccountSnapshot) => void>();
  private lastEmitted = '';

  protected constructor(
    protected readonly store: AccountStore,
    private readonly recordOptions: AccountRecordOptions,
  ) {
    this.account = recordOptions.account;
    this.log = recordOptions.logger ?? createLogger({ silent: true });
    this.now = recordOptions.now ?? Date.now;
  }

  /** Seeds local state from account_state.json before the first sync. */
  protected seedFromFile(cooldown: Cooldown | null): void {
    this.cooldown = cooldown;
    this.fileCooldown = cooldown;
  }

  /** Re-reads the shared store. Never throws: when it cannot answer, local state stands. */
  sync(): Promise<AccountSnapshot> {
    return this.syncWith(() => this.store.load(), true);
  }

  /**
   * Takes in the shared record `load` answers. `ownRead`: it is the store's own read, whose
   * success or failure is the store's health (a record read on another connection says nothing
   * of it).
   */
  protected async syncWith(
    load: () => Promise<StoredAccount | null>,
    ownRead: boolean,
  ): Promise<AccountSnapshot> {
    let stored: StoredAccount | null;
    try {
      stored = await load();
      if (ownRead) {
        this.setSharedOk(true);
      }
    } catch (err) {
      this.setSharedOk(false, err);
      return this.settle();
    }
    if (stored === null || !this.merged) {
      await this.reconcile(stored);
    } else {
      this.adopt(stored);
    }
    return this.settle();
  }

  /** Where the account stands, as far as this process last saw. */
  snapshot(): AccountSnapshot {
    return {
      account: this.account,
      phase: phaseOf(this.loginState, this.cooldown, this.now()),
      cooldown: this.cooldown,
      loginState: this.loginState,
      probing: this.heldProbe !== null || this.probingElsewhere,
      lastSuccessAt: this.lastSuccessAt,
      sharedStoreOk: this.sharedOk,
    };
  }

  /** Calls `listener` whenever phase, cooldown, login state, probing or store health change. */
  onChange(listener: (snapshot: AccountSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected clearListeners(): void {
    this.listeners.clear();
  }

  /** First contact or a flushed store: keep the later cooldown end and write it back. */
  private async reconcile(stored: StoredAccount | null): Promise<void> {
    const local = this.cooldown;
    const localLogin = this.loginState;
    if (stored) {
      this.adopt(stored);
    }
    const later = laterOf(local, stored?.cooldown ?? null);
    this.cooldown = later;
    const now = this.now();
    try {
      if (later && !sameCooldown(later, stored?.cooldown ?? null)) {
        this.cooldown = await this.store.extendCooldown(later, now);
      }
      if (!stored && localLogin !== 'unknown') {
        await this.store.setLoginState(localLogin, now);
      }
      this.merged = true;
    } catch (err) {
      this.setSharedOk(false, err);
    }
  }

  private adopt(stored: StoredAccount): void {
    this.cooldown = stored.cooldown;
    this.loginState = stored.loginState;
    this.lastSuccessAt = stored.lastSuccessAt ?? this.lastSuccessAt;
    this.probingElsewhere = stored.probing && this.heldProbe === null;
  }

  /** A failed shared write leaves local state in charge until the next successful sync. */
  protected async write(op: () => Promise<unknown>): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.merged = false;
      this.setSharedOk(false, err);
    }
  }

  private setSharedOk(ok: boolean, err?: unknown): void {
    if (ok !== this.sharedOk) {
      const meta = { account: this.account, err: err instanceof Error ? err.message : undefined };
      this.log[ok ? 'info' : 'warn'](
        `account store ${ok ? 'reachable again' : 'unreachable'}`,
        meta,
      );
    }
    this.sharedOk = ok;
  }

  /** Mirrors the cooldown into the file and tells listeners about a change. */
  protected async settle(): Promise<AccountSnapshot> {
    if (!sameCooldown(this.cooldown, this.fileCooldown)) {
      const cooldown = this.cooldown;
      try {
        await writeStateFile(this.recordOptions.dataDir, this.account, cooldown, this.now());
        this.fileCooldown = cooldown;
      } catch (err) {
        this.log.error('could not write account_state.json', { err });
      }
    }
    const snap = this.snapshot();
    const key = JSON.stringify({ ...snap, lastSuccessAt: null });
    if (key !== this.lastEmitted) {
      this.lastEmitted = key;
      for (const listener of this.listeners) {
        listener(snap);
      }
    }
    return snap;
  }
}
