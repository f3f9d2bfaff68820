/**
 * The otAQ7b reply (protocol doc §5, §7): [14] the account status code, [15] the models offered
 * as [id, displayName, description, …], [16] tier flags, [17] capability flags. Positions and
 * flag meanings are snapshots of what public clients read; an unexpected shape is drift.
 */
import {
  jspbAt,
  jspbNumber,
  jspbString,
  type DriftSink,
  type PageModelLists,
} from '../gemini/index.ts';

/** The subscription tier, as far as the flags tell. */
export type Tier = 'free' | 'pro' | 'plus' | 'other';

/** One model the account offers. */
export interface DiscoveredModel {
  readonly id: string;
  readonly displayName: string;
  readonly description: string;
  readonly thinking: boolean;
}

/** What otAQ7b says about the account. */
export interface AccountStatus {
  /** 1000 ok, 1016 guest (signed out), 1060 region or age, …; null when unreadable. */
  readonly code: number | null;
  readonly tier: Tier;
  /** The model header's capacity tail for this tier. */
  readonly tail: number;
  /** Where the tail goes in the model header: slot 11, or slot 12 for capacity field 13. */
  readonly tailSlot: 11 | 12;
  readonly models: readonly DiscoveredModel[];
}

/** What each account status code means (protocol doc §5). */
export const ACCOUNT_STATUS_MEANINGS: Readonly<Record<number, string>> = {
  1000: 'ok',
  1014: 'temporarily unavailable',
  1016: 'signed out (guest)',
  1021: 'rejected',
  1033: 'untrusted',
  1040: 'terms of service pending',
  1042: 'terms of service out of date',
  1054: 'guardian block',
  1057: 'guardian approval needed',
  1060: 'region or age not supported',
};

const TAIL_TIERS: Readonly<Record<number, Tier>> = { 1: 'free', 2: 'pro', 4: 'plus' };

/** Reads an otAQ7b payload; every shape it cannot read goes to `onDrift`. */
export function parseAccountStatus(payload: unknown, onDrift: DriftSink): AccountStatus {
  if (!Array.isArray(payload)) {
    onDrift('account_status_shape');
    return { code: null, tier: 'free', tail: 1, tailSlot: 11, models: [] };
  }
  const code = jspbNumber(payload, 14) ?? null;
  if (code === null) {
    onDrift('account_status_shape');
  }
  const { tail, tailSlot } = capacityOf(flags(payload, 16), flags(payload, 17));
  return {
    code,
    tier: TAIL_TIERS[tail] ?? 'other',
    tail,
    tailSlot,
    models: models(payload, onDrift),
  };
}

/**
 * The capacity tail from the flags, in the order public clients test them: tier flag 21 or 22
 * (capacity field 13), capability 115 (Plus, 4), tier 16 or capability 106 (3), tier 8 or
 * capability 19 (Pro, 2), else the free tier's 1.
 */
function capacityOf(tier: number[], capability: number[]): { tail: number; tailSlot: 11 | 12 } {
  if (tier.includes(21) || tier.includes(22)) {
    return { tail: tier.includes(21) ? 1 : 2, tailSlot: 12 };
  }
  if (capability.includes(115)) {
    return { tail: 4, tailSlot: 11 };
  }
  if (tier.includes(16) || capability.includes(106)) {
    return { tail: 3, tailSlot: 11 };
  }
  if (tier.includes(8) || capability.includes(19)) {
    return { tail: 2, tailSlot: 11 };
  }
  return { tail: 1, tailSlot: 11 };
}

function flags(payload: unknown, index: number): number[] {
  const value = jspbAt(payload, index);
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

function models(payload: unknown, onDrift: DriftSink): DiscoveredModel[] {
  const list = jspbAt(payload, 15);
  if (!Array.isArray(list)) {
    onDrift('account_models_shape');
    return [];
  }
  const out: DiscoveredModel[] = [];
  for (const entry of list) {
    const id = jspbString(entry, 0);
    if (!id) {
      onDrift('account_models_shape');
      continue;
    }
    const displayName = jspbString(entry, 1) ?? id;
    const description = jspbString(entry, 2) ?? '';
    out.push({
      id,
      displayName,
      description,
      thinking: /think/i.test(`${displayName} ${description}`),
    });
  }
  return out;
}

/**
 * otAQ7b's models with the page's thinking flags: an id the page lists as thinking thinks, one it
 * lists as fast does not, and one it does not list keeps the guess from its name. The set stays
 * otAQ7b's: the page is read when the session loads and may be older.
 */
export function withPageThinking(
  status: AccountStatus,
  lists: PageModelLists | null,
): AccountStatus {
  if (lists === null) {
    return status;
  }
  const flag = (m: DiscoveredModel): boolean =>
    lists.thinking.includes(m.id) || (!lists.fast.includes(m.id) && m.thinking);
  return { ...status, models: status.models.map((m) => ({ ...m, thinking: flag(m) })) };
}
