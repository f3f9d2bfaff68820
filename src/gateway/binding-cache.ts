/**
 * @module gateway/binding-cache
 * The bindings this replica saw lately (saved, or read from PostgreSQL), in a bounded LRU, so a
 * conversation that keeps coming back to this replica is routed without a database round trip.
 * Only positive entries are kept: an absent key may have been bound by another replica since.
 */
import type { Binding } from './types.ts';

interface Entry {
  readonly binding: Binding;
  /** When this replica learned the binding (its own save, or a read); epoch ms. */
  readonly learnedAtMs: number;
}

/** A bounded LRU of bindings; the least recently used key goes first once it is full. */
export class BindingCache {
  /** A Map keeps insertion order: re-inserting on use keeps the oldest first. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  /** How many keys it holds. */
  get size(): number {
    return this.entries.size;
  }

  /** The binding of `key` learned no earlier than `notBeforeMs` (any age by default). */
  get(key: string, notBeforeMs = Number.NEGATIVE_INFINITY): Binding | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.learnedAtMs < notBeforeMs) {
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.binding;
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Remembers the binding as learned at `nowMs`, evicting the least recently used if full. */
  set(key: string, binding: Binding, nowMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { binding, learnedAtMs: nowMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
      }
    }
  }
}
