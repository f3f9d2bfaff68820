/**
 * Faults injected per account. Each is consumed by one matching request (or never runs out when
 * times is Infinity); which requests a fault matches is decided here, in one place.
 */
import { normalizeEmail } from './accounts.ts';
import type { Fault, RecordKind } from './types.ts';

interface PendingFault {
  fault: Fault;
  remaining: number;
}

/** What a request offers to the fault matcher. */
export interface FaultTarget {
  email: string | null;
  kind: RecordKind;
  /** True when a generate request continues a chat (carries a cid). */
  followUp?: boolean;
}

/** Per-account fault queues. */
export interface FaultStore {
  inject(email: string, fault: Fault, times: number): void;
  clear(email?: string): void;
  /** Consumes and returns the first pending fault that matches, if any. */
  take(target: FaultTarget): Fault | null;
}

/** Creates an empty fault store. */
export function createFaultStore(): FaultStore {
  const byEmail = new Map<string, PendingFault[]>();
  return {
    inject(email, fault, times) {
      if (!(times > 0) || (!Number.isInteger(times) && times !== Infinity)) {
        throw new RangeError('times must be a positive integer or Infinity');
      }
      const key = normalizeEmail(email);
      const list = byEmail.get(key) ?? [];
      list.push({ fault, remaining: times });
      byEmail.set(key, list);
    },
    clear(email) {
      if (email === undefined) {
        byEmail.clear();
      } else {
        byEmail.delete(normalizeEmail(email));
      }
    },
    take(target) {
      if (target.email === null) {
        return null;
      }
      const list = byEmail.get(normalizeEmail(target.email)) ?? [];
      const index = list.findIndex((p) => matches(p.fault, target));
      const pending = list[index];
      if (!pending) {
        return null;
      }
      pending.remaining -= 1;
      if (pending.remaining <= 0) {
        list.splice(index, 1);
      }
      return pending.fault;
    },
  };
}

/**
 * `sorry` hits /app and StreamGenerate; `page_models_shape` /app; `status_shape` otAQ7b; every
 * other StreamGenerate.
 */
function matches(fault: Fault, target: FaultTarget): boolean {
  if (fault === 'sorry') {
    return target.kind === 'app' || target.kind === 'generate';
  }
  if (fault === 'page_models_shape' || target.kind === 'app') {
    return fault === 'page_models_shape' && target.kind === 'app';
  }
  if (fault === 'status_shape' || target.kind === 'batchexecute') {
    return fault === 'status_shape' && target.kind === 'batchexecute';
  }
  if (target.kind !== 'generate') {
    return false;
  }
  return fault !== 'followup_rejected' || target.followUp === true;
}
