/**
 * THE model table: every model the worker exposes and how it is selected upstream
 * (docs/gemini-web-protocol.md §3). Ids and header forms are snapshots that Google changes
 * without notice; this file is the one place to update them.
 */
import type { ModelCatalog, ModelSpec } from './types.ts';

/** The model-selector header's name. */
export const MODEL_HEADER = 'x-goog-ext-525001261-jspb';

/**
 * Builds the `x-goog-ext-525001261-jspb` value. Without a tail this is the 9-slot form of
 * gemini_webapi v1.17.3; with one it is the current (v2) 12-slot form, `…,[4],null,null,<tail>]`,
 * where the tail is the account tier (1 free, 2 Pro, 4 Plus).
 */
export function modelHeader(modelId: string, tail?: number, tailSlot: 11 | 12 = 11): string {
  const base = `[1,null,null,null,${JSON.stringify(modelId)},null,null,0,[4]`;
  if (tail === undefined) {
    return `${base}]`;
  }
  // Accounts whose capacity field is 13 send the tail one slot later: `…,null,null,null,<n>]`.
  return tailSlot === 12 ? `${base},null,null,null,${tail}]` : `${base},null,null,${tail}]`;
}

// The 2.5 ids exist only in v1.17.3, which always sent the 9-slot form, so they keep it. The 3.x
// ids are v2's basic ones; v2 sends them with tail 1 (free tier), and every tier can use the
// free-tier ids, so tail 1 is the choice that works for any account. Paid-tier ids
// (e6fa609c3fa255c0…) need tails 2 or 4 and the account flags to pick them; not exposed here.
const FREE_TIER_TAIL = 1;

/** Every model the worker exposes, in the order /v1/models lists them. */
export const MODELS: readonly ModelSpec[] = Object.freeze([
  {
    name: 'gemini-default',
    aliases: ['default'],
    header: null,
    thinking: false,
    description: 'Whatever model Gemini picks when none is named (no selector header).',
  },
  {
    name: 'gemini-2.5-flash',
    aliases: [],
    header: modelHeader('9ec249fc9ad08861'),
    thinking: false,
    description: 'Gemini 2.5 Flash (v1.17.3 id, 9-slot header).',
  },
  {
    name: 'gemini-2.5-pro',
    // The seed mapped `gemini-pro` to 2.5 Pro; clients configured for the seed still send it.
    aliases: ['gemini-pro'],
    header: modelHeader('4af6c7f5da75d65d'),
    thinking: false,
    description: 'Gemini 2.5 Pro (v1.17.3 id, 9-slot header).',
  },
  {
    name: 'gemini-3.0-pro',
    aliases: ['gemini-3-pro'],
    header: modelHeader('9d8ca3786ebdfbea', FREE_TIER_TAIL),
    thinking: false,
    description: 'Gemini 3 Pro (v2 basic id, 12-slot header with tail 1).',
  },
  {
    name: 'gemini-3-flash',
    aliases: ['gemini-3.0-flash'],
    header: modelHeader('fbb127bbb056c959', FREE_TIER_TAIL),
    thinking: false,
    description: 'Gemini 3 Flash (v2 basic id, 12-slot header with tail 1).',
  },
  {
    name: 'gemini-3-flash-thinking',
    aliases: ['gemini-3.0-flash-thinking'],
    header: modelHeader('5bf011840784117a', FREE_TIER_TAIL),
    thinking: true,
    description:
      'Gemini 3 Flash Thinking (v2 basic id, 12-slot header with tail 1); streams thoughts.',
  },
] satisfies ModelSpec[]);

/**
 * The upstream ids known for each model name, free tier first, then the paid tiers' (v2's
 * `-advanced`/`-plus`). Discovery maps the ids an account offers back to these names, so that
 * `gemini-3-pro` selects whichever id the account's tier has.
 */
export const KNOWN_MODEL_IDS: Readonly<Record<string, readonly string[]>> = {
  'gemini-2.5-flash': ['9ec249fc9ad08861'],
  'gemini-2.5-pro': ['4af6c7f5da75d65d'],
  'gemini-3.0-pro': ['9d8ca3786ebdfbea', 'e6fa609c3fa255c0'],
  'gemini-3-flash': ['fbb127bbb056c959', '56fdd199312815e2'],
  'gemini-3-flash-thinking': ['5bf011840784117a', 'e051ce1aa80aa576'],
};

/** The model used when a request names none, or names `default`. */
export const DEFAULT_MODEL: ModelSpec = MODELS[0] as ModelSpec;

const BY_NAME = new Map<string, ModelSpec>(
  MODELS.flatMap((m) => [m.name, ...(m.aliases ?? [])].map((n) => [n.toLowerCase(), m] as const)),
);

/** Looks a model up by name or alias, case-insensitively; undefined when unknown. */
export function findModel(name: string): ModelSpec | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/** The code table as a catalog: what a worker serves until (or without) discovery. */
export const STATIC_MODEL_CATALOG: ModelCatalog = { list: () => MODELS, find: findModel };
