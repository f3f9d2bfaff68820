/**
 * The worker's model list built from what the account offers. An id the code table knows keeps
 * the table's name and aliases (so `gemini-3-pro` selects this tier's id); an id it does not
 * know gets a name from its display name. The header carries the tier's capacity tail, except for
 * the legacy ids, which keep the form the table gives them.
 */
import {
  DEFAULT_MODEL,
  KNOWN_MODEL_IDS,
  MODELS,
  modelHeader,
  type ModelCatalog,
  type ModelSpec,
  type PageModelLists,
} from '../gemini/index.ts';
import type { AccountStatus, DiscoveredModel } from './account-status.ts';

/** A model of the catalog, with what the account said about it. */
export interface CatalogModel extends ModelSpec {
  /** The upstream id; null for the server's default. */
  readonly upstreamId: string | null;
  readonly displayName: string;
}

const TABLE = new Map(MODELS.map((m) => [m.name, m]));

/** The models of an account, default first, in the order the account lists them. */
export function modelsFromStatus(status: AccountStatus): CatalogModel[] {
  const out: CatalogModel[] = [{ ...DEFAULT_MODEL, upstreamId: null, displayName: 'Default' }];
  const taken = new Set(out.flatMap(namesOf));
  for (const chosen of pickIds(status)) {
    const model = toCatalogModel(chosen.model, chosen.name, status);
    if (namesOf(model).some((n) => taken.has(n))) {
      continue;
    }
    namesOf(model).forEach((n) => taken.add(n));
    out.push(model);
  }
  return out;
}

/** The code table as catalog models (the fallback). */
export function tableModels(): CatalogModel[] {
  return MODELS.map((m) => ({
    ...m,
    upstreamId: /"([0-9a-f]{16})"/.exec(m.header ?? '')?.[1] ?? null,
    displayName: m.name,
  }));
}

/**
 * The fallback from the page's lists alone (otAQ7b has not answered yet): the table's entries
 * whose names the page's ids map to, with the page's thinking flags. They keep the table's
 * free-tier ids and tail 1, which every tier may use; ids the table does not know are left out,
 * since without otAQ7b their tier's tail is unknown.
 */
export function modelsFromPage(lists: PageModelLists): CatalogModel[] {
  const names = (ids: readonly string[]) => new Set(ids.map(tableNameOf).filter((n) => n !== null));
  const fast = names(lists.fast);
  const thinking = names(lists.thinking);
  return tableModels()
    .filter((m) => m.header === null || fast.has(m.name) || thinking.has(m.name))
    .map((m) => (m.header === null ? m : { ...m, thinking: thinking.has(m.name) }));
}

/** A ModelCatalog whose entries carry the account's ids and display names. */
export interface CatalogOfModels extends ModelCatalog {
  list(): readonly CatalogModel[];
  find(name: string): CatalogModel | undefined;
}

/** A catalog over a fixed list, looked up by name or alias, case-insensitively. */
export function catalogOf(models: readonly CatalogModel[]): CatalogOfModels {
  const byName = new Map(models.flatMap((m) => namesOf(m).map((n) => [n, m] as const)));
  return { list: () => models, find: (name) => byName.get(name.trim().toLowerCase()) };
}

function namesOf(m: ModelSpec): string[] {
  return [m.name, ...(m.aliases ?? [])].map((n) => n.toLowerCase());
}

/**
 * One id per table name: when an account offers several ids of one name (untiered test accounts
 * list them all), the free id wins at tail 1 and the paid id at a paid tail.
 */
function pickIds(status: AccountStatus): { model: DiscoveredModel; name: string | null }[] {
  const byName = new Map<string, DiscoveredModel>();
  const unknown: DiscoveredModel[] = [];
  for (const model of status.models) {
    const name = tableNameOf(model.id);
    if (name === null) {
      unknown.push(model);
      continue;
    }
    const held = byName.get(name);
    const ids = KNOWN_MODEL_IDS[name] ?? [];
    const rank = (id: string) => (status.tail === 1 ? -ids.indexOf(id) : ids.indexOf(id));
    if (!held || rank(model.id) > rank(held.id)) {
      byName.set(name, model);
    }
  }
  const order = status.models.filter(
    (m) => unknown.includes(m) || [...byName.values()].includes(m),
  );
  return order.map((model) => ({ model, name: tableNameOf(model.id) }));
}

function tableNameOf(id: string): string | null {
  const entry = Object.entries(KNOWN_MODEL_IDS).find(([, ids]) => ids.includes(id));
  return entry?.[0] ?? null;
}

function toCatalogModel(
  model: DiscoveredModel,
  name: string | null,
  status: AccountStatus,
): CatalogModel {
  const table = name === null ? undefined : TABLE.get(name);
  // The table's legacy entries (no tail) keep their header form; the rest carry this tier's.
  const legacy = table !== undefined && table.header !== null && !/,\d+\]$/.test(table.header);
  const header = legacy
    ? modelHeader(model.id)
    : modelHeader(model.id, status.tail, status.tailSlot);
  return {
    name: table?.name ?? nameFromDisplay(model.displayName),
    aliases: table?.aliases ?? [],
    header,
    thinking: model.thinking,
    description: model.description || `${model.displayName} (${model.id})`,
    upstreamId: model.id,
    displayName: model.displayName,
  };
}

/** `3 Flash Lite` -> `gemini-3-flash-lite`. */
function nameFromDisplay(displayName: string): string {
  const slug = displayName
    .toLowerCase()
    .replace(/^gemini\s+/, '')
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `gemini-${slug || 'model'}`;
}
