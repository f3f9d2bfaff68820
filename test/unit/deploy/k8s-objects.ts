/**
 * @module k8s-objects
 * The rendered deploy/k8s overlays as the Kubernetes tests read them: objects by kind and name,
 * containers, and a container's environment built the way the kubelet builds it (envFrom, then
 * env in order, fieldRefs from the pod, `$(VAR)` expanded from what came before).
 */
import {
  isMap,
  matchLabels,
  objectId,
  overlayDirs,
  podLabels,
  podSpecOf,
  renderKustomization,
  selects,
  type K8sObject,
  type YamlMap,
} from '../../../scripts/k8s/index.ts';

/** The overlays' names, e.g. dev and production. */
export const OVERLAYS = [...overlayDirs().keys()];

const cache = new Map<string, K8sObject[]>();

/** The rendered objects of one overlay (rendered once per test file). */
export function rendered(overlay: string): K8sObject[] {
  const dir = overlayDirs().get(overlay);
  if (!dir) {
    throw new Error(`no overlay ${overlay}`);
  }
  let objects = cache.get(overlay);
  if (!objects) {
    objects = renderKustomization(dir);
    cache.set(overlay, objects);
  }
  return objects;
}

/** The object of that kind and name; throws if it is missing. */
export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    throw new Error(`no ${kind} ${name}`);
  }
  return found;
}

/** `o.spec` (or another top-level map). */
export function field(o: YamlMap, name: string): YamlMap {
  const value = o[name];
  return isMap(value) ? value : {};
}

/** A list field of a map, as maps. */
export function list(o: YamlMap, name: string): YamlMap[] {
  const value = o[name];
  return Array.isArray(value) ? value.filter(isMap) : [];
}

/** Every container (init containers included) of a workload. */
export function containers(o: K8sObject): YamlMap[] {
  const podSpec = podSpecOf(o) ?? {};
  return [...list(podSpec, 'initContainers'), ...list(podSpec, 'containers')];
}

/** Every workload (something with a pod template) of a render. */
export function workloads(objects: readonly K8sObject[]): K8sObject[] {
  return objects.filter((o) => podSpecOf(o) !== undefined);
}

/** What the kubelet knows when it builds a pod's environment. */
export interface PodFacts {
  readonly name: string;
  readonly namespace: string;
  /** Secrets and ConfigMaps by name: their string data. */
  readonly sources: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** The data of every Secret and ConfigMap of a render, by name. */
export function dataSources(objects: readonly K8sObject[]): Map<string, Record<string, string>> {
  return new Map(
    objects
      .filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap')
      .map((o) => [
        o.metadata.name,
        {
          ...(field(o, 'data') as Record<string, string>),
          ...(field(o, 'stringData') as Record<string, string>),
        },
      ]),
  );
}

/** The environment the container's process would see (without the image's own ENV). */
export function containerEnv(container: YamlMap, pod: PodFacts): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of list(container, 'envFrom')) {
    const ref = field(source, 'configMapRef')['name'] ?? field(source, 'secretRef')['name'];
    Object.assign(env, pod.sources.get(String(ref)) ?? {});
  }
  for (const entry of list(container, 'env')) {
    const name = String(entry['name']);
    const from = field(entry, 'valueFrom');
    const value =
      typeof entry['value'] === 'string' ? expand(entry['value'], env) : resolve(from, pod);
    if (value !== undefined) {
      env[name] = value;
    }
  }
  return env;
}

function resolve(from: YamlMap, pod: PodFacts): string | undefined {
  const fieldPath = field(from, 'fieldRef')['fieldPath'];
  if (fieldPath === 'metadata.name') {
    return pod.name;
  }
  if (fieldPath === 'metadata.namespace') {
    return pod.namespace;
  }
  const ref = isMap(from['secretKeyRef']) ? from['secretKeyRef'] : field(from, 'configMapKeyRef');
  return pod.sources.get(String(ref['name']))?.[String(ref['key'])];
}

/** Kubernetes' `$(VAR)` expansion: a defined variable is replaced, anything else kept as written. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
    (whole, name: string) => env[name] ?? whole,
  );
}

/**
 * Whether the NetworkPolicies let a pod of `source` open `port` on a pod of `target` (same
 * namespace). Conservative where it matters: a rule without ports or peers, or a peer by
 * namespace or IP block, counts as letting everyone in.
 */
export function admittedSources(policies: readonly K8sObject[], target: K8sObject, port: number) {
  const applying = policies.filter((p) =>
    selects(matchLabels(field(p, 'spec')['podSelector'], objectId(p)), podLabels(target)),
  );
  const rules = applying.flatMap((p) => list(field(p, 'spec'), 'ingress'));
  const coversPort = (rule: YamlMap) =>
    list(rule, 'ports').length === 0 || list(rule, 'ports').some((p) => p['port'] === port);
  const admitsPeer = (peer: YamlMap, source: K8sObject) =>
    Object.keys(peer).some((k) => k !== 'podSelector') ||
    selects(matchLabels(peer['podSelector'], 'peer'), podLabels(source));
  return (source: K8sObject): boolean =>
    applying.length === 0 ||
    rules.some(
      (rule) =>
        coversPort(rule) &&
        (list(rule, 'from').length === 0 ||
          list(rule, 'from').some((peer) => admitsPeer(peer, source))),
    );
}
