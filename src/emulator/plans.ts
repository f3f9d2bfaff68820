/**
 * What each account may use: its tier (free, Pro, Plus), the models that tier offers, the
 * capacity tail its model header must carry (the free tier's ids with tail 1 work for every
 * tier), its account status code, and models withdrawn while the emulator runs. An account without a tier keeps the old behaviour: every known id, any tail.
 * The tier comes from the control API, else from a `+free`, `+pro` or `+plus` tag in the e-mail.
 */
import { normalizeEmail } from './accounts.ts';
import { MODELS, type EmulatedModel } from './models.ts';

/** The subscription tiers the emulator imitates. */
export type Tier = 'free' | 'pro' | 'plus';

/** Every tier, for validation. */
export const TIERS: readonly Tier[] = ['free', 'pro', 'plus'];

/** One tier's otAQ7b facts: flags at [16] and [17], the header tail, the model ids at [15]. */
export interface TierPlan {
  readonly tierFlags: readonly number[];
  readonly capabilityFlags: readonly number[];
  readonly tail: number;
  readonly modelIds: readonly string[];
}

// Flags as public clients read them: tier flag 8 or capability 19 -> tail 2; capability 115 -> 4.
const PLANS: Readonly<Record<Tier, TierPlan>> = {
  free: {
    tierFlags: [],
    capabilityFlags: [],
    tail: 1,
    modelIds: ['fbb127bbb056c959', '5bf011840784117a'],
  },
  pro: {
    tierFlags: [8],
    capabilityFlags: [19],
    tail: 2,
    modelIds: ['e6fa609c3fa255c0', '56fdd199312815e2', 'e051ce1aa80aa576'],
  },
  plus: {
    tierFlags: [],
    capabilityFlags: [115],
    tail: 4,
    modelIds: ['e6fa609c3fa255c0', '56fdd199312815e2', 'e051ce1aa80aa576', '8c46e95b1a07cecc'],
  },
};

const TIER_TAG_RE = /\+(free|pro|plus)(?=[-.@_]|$)/;

/** Per-account tiers, status codes and withdrawn models. */
export interface PlanStore {
  /** Sets (or, with null, clears) the account's tier and status code override. */
  set(email: string, plan: { tier?: Tier | null; statusCode?: number | null }): void;
  /** The account's tier, or null for an untiered account. */
  tierOf(email: string): Tier | null;
  /** The tier's otAQ7b facts; null for an untiered account. */
  planOf(email: string): TierPlan | null;
  /** The otAQ7b status code override, if any. */
  statusCodeOf(email: string): number | null;
  /** Withdraws a model id from one account, or from every account. */
  withdraw(modelId: string, email?: string): void;
  /** Gives back every withdrawn model. */
  restore(): void;
  /** The models the account is offered now, withdrawn ones left out. */
  modelsFor(email: string): EmulatedModel[];
  /** Whether the account may select this id with this header tail. */
  admits(email: string, modelId: string, tail: number | null): boolean;
}

/** Creates an empty plan store. */
export function createPlanStore(): PlanStore {
  const tiers = new Map<string, Tier | null>();
  const codes = new Map<string, number>();
  const withdrawnEverywhere = new Set<string>();
  const withdrawnFrom = new Map<string, Set<string>>();
  const tierOf = (email: string): Tier | null => {
    const key = normalizeEmail(email);
    if (tiers.has(key)) {
      return tiers.get(key) ?? null;
    }
    const tag = TIER_TAG_RE.exec(key.split('@')[0] ?? '');
    return (tag?.[1] as Tier | undefined) ?? null;
  };
  const isWithdrawn = (email: string, id: string): boolean =>
    withdrawnEverywhere.has(id) || (withdrawnFrom.get(normalizeEmail(email))?.has(id) ?? false);
  const planOf = (email: string): TierPlan | null => {
    const tier = tierOf(email);
    return tier === null ? null : PLANS[tier];
  };
  return {
    set(email, plan) {
      const key = normalizeEmail(email);
      if (plan.tier !== undefined) {
        tiers.set(key, plan.tier);
      }
      if (plan.statusCode === null) {
        codes.delete(key);
      } else if (plan.statusCode !== undefined) {
        codes.set(key, plan.statusCode);
      }
    },
    tierOf,
    planOf,
    statusCodeOf: (email) => codes.get(normalizeEmail(email)) ?? null,
    withdraw(modelId, email) {
      if (email === undefined) {
        withdrawnEverywhere.add(modelId);
        return;
      }
      const key = normalizeEmail(email);
      const set = withdrawnFrom.get(key) ?? new Set<string>();
      set.add(modelId);
      withdrawnFrom.set(key, set);
    },
    restore() {
      withdrawnEverywhere.clear();
      withdrawnFrom.clear();
    },
    modelsFor(email) {
      const plan = planOf(email);
      const offered = plan ? MODELS.filter((m) => plan.modelIds.includes(m.id)) : [...MODELS];
      return offered.filter((m) => !isWithdrawn(email, m.id));
    },
    admits(email, modelId, tail) {
      if (isWithdrawn(email, modelId)) {
        return false;
      }
      const plan = planOf(email);
      // Every tier may still use the free tier's ids, with the free tail.
      const asFree = PLANS.free.modelIds.includes(modelId) && tail === PLANS.free.tail;
      return plan === null || asFree || (plan.modelIds.includes(modelId) && tail === plan.tail);
    },
  };
}
