/**
 * @module kustomize
 * A small kustomize: renders deploy/k8s's overlays without the kustomize binary, so the unit tests
 * and `npm run deploy:check` need nothing beyond npm. It resolves only the fields our
 * kustomizations use (resources, namespace, images, replicas, patches as strategic merge) and
 * refuses any other, so a new field cannot be silently ignored; deploy:check compares its output
 * with the real kustomize (`kubectl kustomize`) whenever kubectl is installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isMap, strategicMerge, type YamlMap } from './strategic-merge.ts';

/** One rendered Kubernetes object. */
export interface K8sObject extends YamlMap {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: YamlMap & { readonly name: string; readonly namespace?: string };
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'replicas',
  'patches',
]);

/** Kinds our manifests may hold that live outside any namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
]);

const SCALABLE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

interface ImageRule {
  readonly name: string;
  readonly newName?: string;
  readonly newTag?: string;
  readonly digest?: string;
}

/** Reads every YAML document of a file as Kubernetes objects (empty documents skipped). */
export function readManifests(file: string): K8sObject[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  return docs.flatMap((doc, i) => {
    if (doc.errors.length > 0) {
      throw new Error(`${file} (document ${i + 1}): ${doc.errors[0]?.message}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) {
      return [];
    }
    return [asObject(value, `${file} (document ${i + 1})`)];
  });
}

/** Renders the kustomization in `dir` (a folder holding kustomization.yaml). */
export function renderKustomization(dir: string): K8sObject[] {
  const spec = readKustomization(dir);
  let objects = stringList(spec, 'resources', dir).flatMap((entry) => {
    const target = path.resolve(dir, entry);
    return fs.statSync(target).isDirectory() ? renderKustomization(target) : readManifests(target);
  });
  for (const patchFile of patchFiles(spec, dir)) {
    objects = applyPatch(objects, patchFile);
  }
  if (typeof spec['namespace'] === 'string') {
    objects = objects.map((o) => setNamespace(o, spec['namespace'] as string));
  }
  for (const rule of imageRules(spec, dir)) {
    objects = objects.map((o) => setImage(o, rule));
  }
  for (const { name, count } of replicaRules(spec, dir)) {
    objects = setReplicas(objects, name, count, dir);
  }
  assertUnique(objects, dir);
  return objects;
}

/** "Kind namespace/name": how objects are named in messages and compared. */
export function objectId(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`;
}

function readKustomization(dir: string): YamlMap {
  const file = path.join(dir, 'kustomization.yaml');
  const spec: unknown = parseAllDocuments(fs.readFileSync(file, 'utf8'))[0]?.toJS();
  if (!isMap(spec)) {
    throw new Error(`${file}: not a map`);
  }
  const unknown = Object.keys(spec).filter((k) => !SUPPORTED_FIELDS.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `${file}: ${unknown.join(', ')} not supported by scripts/k8s/kustomize.ts (add it there first)`,
    );
  }
  return spec;
}

function asObject(value: unknown, where: string): K8sObject {
  if (
    !isMap(value) ||
    typeof value['apiVersion'] !== 'string' ||
    typeof value['kind'] !== 'string'
  ) {
    throw new Error(`${where}: not a Kubernetes object (apiVersion and kind needed)`);
  }
  const metadata = value['metadata'];
  if (!isMap(metadata) || typeof metadata['name'] !== 'string') {
    throw new Error(`${where}: metadata.name missing`);
  }
  return value as K8sObject;
}

function stringList(spec: YamlMap, field: string, dir: string): string[] {
  const value = spec[field] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${dir}/kustomization.yaml: ${field} must be a list of strings`);
  }
  return value;
}

function mapList(spec: YamlMap, field: string, dir: string): YamlMap[] {
  const value = spec[field] ?? [];
  if (!Array.isArray(value) || !value.every(isMap)) {
    throw new Error(`${dir}/kustomization.yaml: ${field} must be a list of maps`);
  }
  return value;
}

function patchFiles(spec: YamlMap, dir: string): string[] {
  return mapList(spec, 'patches', dir).map((p) => {
    const extra = Object.keys(p).filter((k) => k !== 'path');
    if (typeof p['path'] !== 'string' || extra.length > 0) {
      throw new Error(`${dir}: only patches given by \`path\` (strategic merge) are supported`);
    }
    return path.resolve(dir, p['path']);
  });
}

function applyPatch(objects: K8sObject[], file: string): K8sObject[] {
  const patches = readManifests(file);
  return patches.reduce((current, patch) => {
    const matches = current.filter(
      (o) =>
        o.kind === patch.kind &&
        o.metadata.name === patch.metadata.name &&
        (patch.metadata.namespace === undefined ||
          o.metadata.namespace === patch.metadata.namespace),
    );
    if (matches.length !== 1) {
      throw new Error(`${file}: ${objectId(patch)} matches ${matches.length} objects, not 1`);
    }
    return current.map((o) => (o === matches[0] ? (strategicMerge(o, patch) as K8sObject) : o));
  }, objects);
}

function setNamespace(o: K8sObject, namespace: string): K8sObject {
  if (CLUSTER_SCOPED.has(o.kind)) {
    return o;
  }
  return { ...o, metadata: { ...o.metadata, namespace } };
}

function imageRules(spec: YamlMap, dir: string): ImageRule[] {
  return mapList(spec, 'images', dir).map((rule) => {
    const known = ['name', 'newName', 'newTag', 'digest'];
    const values = Object.entries(rule);
    if (
      typeof rule['name'] !== 'string' ||
      !values.every(([k, v]) => known.includes(k) && typeof v === 'string')
    ) {
      throw new Error(`${dir}/kustomization.yaml: images entries take ${known.join(', ')}`);
    }
    return rule as unknown as ImageRule;
  });
}

/** The image's name without its tag or digest, as kustomize matches it. */
function splitImage(image: string): { name: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) {
    return { name: image.slice(0, at), tag: image.slice(at) };
  }
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/')
    ? { name: image.slice(0, colon), tag: image.slice(colon) }
    : { name: image, tag: '' };
}

function setImage(o: K8sObject, rule: ImageRule): K8sObject {
  const podSpec = podSpecOf(o);
  if (!podSpec) {
    return o;
  }
  const retag = (container: unknown): unknown => {
    if (!isMap(container) || typeof container['image'] !== 'string') {
      return container;
    }
    const { name, tag } = splitImage(container['image']);
    if (name !== rule.name) {
      return container;
    }
    const newTag = rule.digest ? `@${rule.digest}` : rule.newTag ? `:${rule.newTag}` : tag;
    return { ...container, image: `${rule.newName ?? name}${newTag}` };
  };
  const patched: YamlMap = { ...podSpec };
  for (const field of ['containers', 'initContainers']) {
    const list = podSpec[field];
    if (Array.isArray(list)) {
      patched[field] = list.map(retag);
    }
  }
  return withPodSpec(o, patched);
}

/** The pod template's spec of a workload (or a Pod's spec); undefined for other kinds. */
export function podSpecOf(o: K8sObject): YamlMap | undefined {
  const spec = o['spec'];
  if (!isMap(spec)) {
    return undefined;
  }
  if (o.kind === 'Pod') {
    return spec;
  }
  const template = o.kind === 'CronJob' ? undefined : spec['template'];
  const podSpec = isMap(template) ? template['spec'] : undefined;
  return isMap(podSpec) ? podSpec : undefined;
}

function withPodSpec(o: K8sObject, podSpec: YamlMap): K8sObject {
  const spec = o['spec'] as YamlMap;
  if (o.kind === 'Pod') {
    return { ...o, spec: podSpec };
  }
  const template = spec['template'] as YamlMap;
  return { ...o, spec: { ...spec, template: { ...template, spec: podSpec } } };
}

function replicaRules(spec: YamlMap, dir: string): { name: string; count: number }[] {
  return mapList(spec, 'replicas', dir).map((rule) => {
    if (typeof rule['name'] !== 'string' || !Number.isInteger(rule['count'])) {
      throw new Error(
        `${dir}/kustomization.yaml: replicas entries need a name and an integer count`,
      );
    }
    return { name: rule['name'], count: rule['count'] as number };
  });
}

function setReplicas(objects: K8sObject[], name: string, count: number, dir: string): K8sObject[] {
  if (!objects.some((o) => SCALABLE.has(o.kind) && o.metadata.name === name)) {
    throw new Error(`${dir}/kustomization.yaml: replicas: no workload named ${name}`);
  }
  return objects.map((o) =>
    SCALABLE.has(o.kind) && o.metadata.name === name
      ? { ...o, spec: { ...(o['spec'] as YamlMap), replicas: count } }
      : o,
  );
}

function assertUnique(objects: K8sObject[], dir: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) {
      throw new Error(`${dir}: ${id} is defined twice`);
    }
    seen.add(id);
  }
}
