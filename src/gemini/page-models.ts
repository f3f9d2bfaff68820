/**
 * The model lists in the `/app` page's bootstrap data (protocol doc §3, "v2 also discovers ids"):
 * string values of the form `fast=<id>,<id>` and `thinking=<id>,<id>` inside WIZ_global_data.
 * Which key holds them changes with Google's builds, so they are found by their form, anywhere
 * in a JSON string of the page; an id is 16 hex digits, as every known model id is.
 */
import type { DriftSink } from './drift.ts';

/** The ids the page lists, by kind; an id in both lists counts as thinking. */
export interface PageModelLists {
  readonly fast: readonly string[];
  readonly thinking: readonly string[];
  /** Entries that were not model ids (protocol drift when above 0). */
  readonly dropped: number;
}

const LIST_RE = /["&;\s](fast|thinking)=([^"&;\s]*)/g;
const MODEL_ID_RE = /^[0-9a-f]{16}$/;

/** The page's model lists; null when it carries none. */
export function readPageModels(html: string): PageModelLists | null {
  const lists = { fast: new Set<string>(), thinking: new Set<string>() };
  let found = false;
  let dropped = 0;
  for (const [, kind, raw] of html.matchAll(LIST_RE)) {
    found = true;
    for (const id of (raw ?? '').split(',').filter((s) => s !== '')) {
      if (MODEL_ID_RE.test(id)) {
        lists[kind as 'fast' | 'thinking'].add(id);
      } else {
        dropped += 1;
      }
    }
  }
  if (!found) {
    return null;
  }
  const thinking = [...lists.thinking];
  return { fast: [...lists.fast].filter((id) => !lists.thinking.has(id)), thinking, dropped };
}

/**
 * The lists to keep after a signed-in page: its own when they hold ids, else `previous`. Lists
 * that are missing or hold entries that are not ids are drift.
 */
export function keptPageModels(
  previous: PageModelLists | null,
  lists: PageModelLists | null,
  onDrift: DriftSink,
): PageModelLists | null {
  if (lists === null || lists.dropped > 0) {
    onDrift('page_models_shape');
  }
  return lists !== null && lists.fast.length + lists.thinking.length > 0 ? lists : previous;
}
