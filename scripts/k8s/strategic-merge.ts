/**
 * @module strategic-merge
 * The part of Kubernetes' strategic merge patch that our overlays use: maps merge key by key, a
 * null deletes, and the lists Kubernetes merges by a key (containers by name, env by name, …)
 * merge item by item; every other list is replaced whole, as the API server does. Directives
 * (`$patch`, `$retainKeys`, …) are refused rather than half-implemented.
 */

/** A parsed YAML map. */
export type YamlMap = Record<string, unknown>;

/** The field name of a list → the key its items are merged by (the API's patchMergeKey). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
};

/** Container ports merge by containerPort; Service ports by port. */
const PORT_KEYS = ['containerPort', 'port'] as const;

/** True for a plain (non-array) object. */
export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns `target` with `patch` applied; neither argument is changed. */
export function strategicMerge(target: YamlMap, patch: YamlMap, where = ''): YamlMap {
  const out: YamlMap = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const at = `${where}/${key}`;
    if (key.startsWith('$')) {
      throw new Error(`strategic merge directive ${at} is not supported`);
    }
    const current = out[key];
    if (value === null) {
      delete out[key];
    } else if (isMap(value) && isMap(current)) {
      out[key] = strategicMerge(current, value, at);
    } else if (Array.isArray(value) && Array.isArray(current)) {
      out[key] = mergeList(key, current, value, at);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

function mergeList(field: string, current: unknown[], patch: unknown[], where: string): unknown[] {
  const mergeKey = listMergeKey(field, [...current, ...patch]);
  if (!mergeKey) {
    return structuredClone(patch);
  }
  const out = [...current];
  for (const item of patch) {
    if (!isMap(item) || item[mergeKey] === undefined) {
      throw new Error(`${where}: every item needs its merge key "${mergeKey}"`);
    }
    const index = out.findIndex((c) => isMap(c) && c[mergeKey] === item[mergeKey]);
    const existing = out[index];
    if (index >= 0 && isMap(existing)) {
      out[index] = strategicMerge(existing, item, `${where}[${JSON.stringify(item[mergeKey])}]`);
    } else {
      out.push(structuredClone(item));
    }
  }
  return out;
}

function listMergeKey(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    return PORT_KEYS.find((k) => items.every((i) => isMap(i) && k in i));
  }
  return MERGE_KEYS[field];
}
