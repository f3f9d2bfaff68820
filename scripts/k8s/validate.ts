/**
 * @module validate
 * Offline checks of rendered objects: each against its Kubernetes schema (kubernetes-models, the
 * API's OpenAPI definitions compiled to validators), then the references between objects that a
 * schema cannot see and a cluster would only show as a pod that never starts or a Service with no
 * endpoints: selectors, named ports, the StatefulSet's headless Service, ConfigMap and Secret keys.
 */
import { isMap, type YamlMap } from './strategic-merge.ts';
import { objectId, podSpecOf, type K8sObject } from './kustomize.ts';
import { unknownFields } from './unknown-fields.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet']);

/** Every problem found in `objects` (empty when they are valid), each naming its object. */
export async function validateObjects(objects: readonly K8sObject[]): Promise<string[]> {
  return [...(await schemaProblems(objects)), ...referenceProblems(objects)];
}

/** Only the schema checks, for files that are not a whole deployment (the examples). */
export async function schemaProblems(objects: readonly K8sObject[]): Promise<string[]> {
  const found = await Promise.all(
    objects.map(async (o) => {
      const invalid = await schemaProblem(o);
      return invalid
        ? [invalid]
        : unknownFields(o, o.apiVersion, o.kind).map((p) => `${objectId(o)}: ${p}`);
    }),
  );
  return found.flat();
}

/** The object against its schema (types, required fields, enums); null when it is valid. */
async function schemaProblem(o: K8sObject): Promise<string | null> {
  if (!/^[a-z0-9.]+\/?[a-z0-9]+$/i.test(o.apiVersion) || !/^[A-Za-z]+$/.test(o.kind)) {
    return `${objectId(o)}: unusual apiVersion/kind ${o.apiVersion} ${o.kind}`;
  }
  let Model: ModelClass | undefined;
  try {
    // One model per kind, e.g. kubernetes-models/apps/v1/StatefulSet.
    const specifier = `kubernetes-models/${o.apiVersion}/${o.kind}`;
    const mod = (await import(/* @vite-ignore */ specifier)) as Record<string, ModelClass>;
    Model = mod[o.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    return `${objectId(o)}: no schema for ${o.apiVersion} ${o.kind}`;
  }
  try {
    new Model(o).validate();
    return null;
  } catch (err) {
    return `${objectId(o)}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Cross-object references that must hold in the rendered set. */
export function referenceProblems(objects: readonly K8sObject[]): string[] {
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind));
  return [
    ...workloads.flatMap(selectorProblems),
    ...workloads.flatMap((w) => containerRefProblems(w, objects)),
    ...objects.filter((o) => o.kind === 'Service').flatMap((s) => serviceProblems(s, workloads)),
    ...objects.flatMap((o) => targetProblems(o, objects)),
  ];
}

/** The labels of a workload's pods. */
export function podLabels(o: K8sObject): Record<string, string> {
  const template = (o['spec'] as YamlMap | undefined)?.['template'];
  const labels =
    isMap(template) && isMap(template['metadata']) ? template['metadata']['labels'] : {};
  return isMap(labels) ? (labels as Record<string, string>) : {};
}

/** True when every label of `selector` is on `labels`; an empty selector matches everything. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  const wanted = isMap(selector) ? selector : {};
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

/** A label selector's matchLabels (matchExpressions are not used here and are refused). */
export function matchLabels(selector: unknown, where: string): Record<string, string> {
  if (!isMap(selector)) {
    return {};
  }
  if (selector['matchExpressions'] !== undefined) {
    throw new Error(`${where}: matchExpressions is not supported by the checks`);
  }
  return isMap(selector['matchLabels']) ? (selector['matchLabels'] as Record<string, string>) : {};
}

/** The workloads in `o`'s namespace whose pods `selector` selects. */
function selected(
  o: K8sObject,
  workloads: readonly K8sObject[],
  selector: Record<string, string>,
): K8sObject[] {
  return workloads.filter(
    (w) => w.metadata.namespace === o.metadata.namespace && selects(selector, podLabels(w)),
  );
}

function selectorProblems(w: K8sObject): string[] {
  const spec = w['spec'] as YamlMap;
  const selector = matchLabels(spec['selector'], objectId(w));
  if (Object.keys(selector).length === 0) {
    return [`${objectId(w)}: empty selector`];
  }
  return selects(selector, podLabels(w))
    ? []
    : [`${objectId(w)}: selector does not match its pods`];
}

function containersOf(w: K8sObject): YamlMap[] {
  const podSpec = podSpecOf(w) ?? {};
  return ['initContainers', 'containers'].flatMap((f) => {
    const list = podSpec[f];
    return Array.isArray(list) ? list.filter(isMap) : [];
  });
}

function portNames(w: K8sObject): Set<unknown> {
  return new Set(
    containersOf(w).flatMap((c) =>
      (Array.isArray(c['ports']) ? c['ports'].filter(isMap) : []).flatMap((p) => [
        p['name'],
        p['containerPort'],
      ]),
    ),
  );
}

/** Named probe ports exist; env and envFrom name ConfigMaps (and Secrets, when rendered) and keys that exist. */
function containerRefProblems(w: K8sObject, objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: unknown) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        o.metadata.namespace === w.metadata.namespace,
    );
  const checkRef = (kind: 'ConfigMap' | 'Secret', ref: YamlMap, key: unknown, where: string) => {
    const target = find(kind, ref['name']);
    if (!target) {
      // A Secret may come from outside the render (production); a ConfigMap never does here.
      if (kind === 'ConfigMap' && ref['optional'] !== true) {
        problems.push(`${where}: no ConfigMap ${String(ref['name'])}`);
      }
      return;
    }
    const data = { ...(target['data'] as YamlMap), ...(target['stringData'] as YamlMap) };
    if (key !== undefined && !(show(key) in data) && ref['optional'] !== true) {
      problems.push(`${where}: ${kind} ${String(ref['name'])} has no key ${show(key)}`);
    }
  };
  for (const c of containersOf(w)) {
    const where = `${objectId(w)} container ${String(c['name'])}`;
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const handler = c[probe];
      const port =
        isMap(handler) && isMap(handler['httpGet']) ? handler['httpGet']['port'] : undefined;
      if (port !== undefined && !portNames(w).has(port)) {
        problems.push(`${where}: ${probe} uses port ${show(port)}, which no container declares`);
      }
    }
    for (const env of Array.isArray(c['env']) ? c['env'].filter(isMap) : []) {
      const from = isMap(env['valueFrom']) ? env['valueFrom'] : {};
      for (const [field, kind] of [
        ['configMapKeyRef', 'ConfigMap'],
        ['secretKeyRef', 'Secret'],
      ] as const) {
        if (isMap(from[field])) {
          checkRef(kind, from[field], from[field]['key'], `${where} env ${String(env['name'])}`);
        }
      }
    }
    for (const source of Array.isArray(c['envFrom']) ? c['envFrom'].filter(isMap) : []) {
      for (const [field, kind] of [
        ['configMapRef', 'ConfigMap'],
        ['secretRef', 'Secret'],
      ] as const) {
        if (isMap(source[field])) {
          checkRef(kind, source[field], undefined, `${where} envFrom`);
        }
      }
    }
  }
  return problems;
}

/** A Service selects some pods, and its named target ports exist on them. */
function serviceProblems(s: K8sObject, workloads: readonly K8sObject[]): string[] {
  const spec = (s['spec'] ?? {}) as YamlMap;
  if (!isMap(spec['selector'])) {
    return [];
  }
  const pods = selected(s, workloads, spec['selector'] as Record<string, string>);
  if (pods.length === 0) {
    return [`${objectId(s)}: selects no pods`];
  }
  const ports = Array.isArray(spec['ports']) ? spec['ports'].filter(isMap) : [];
  return ports
    .filter(
      (p) => p['targetPort'] !== undefined && !pods.some((w) => portNames(w).has(p['targetPort'])),
    )
    .map((p) => `${objectId(s)}: targetPort ${String(p['targetPort'])} is on none of its pods`);
}

/** A StatefulSet's Service is headless; a PDB selects pods; an HPA's target exists. */
function targetProblems(o: K8sObject, objects: readonly K8sObject[]): string[] {
  const spec = (o['spec'] ?? {}) as YamlMap;
  const inNamespace = objects.filter((x) => x.metadata.namespace === o.metadata.namespace);
  if (o.kind === 'StatefulSet') {
    const svc = inNamespace.find(
      (x) => x.kind === 'Service' && x.metadata.name === spec['serviceName'],
    );
    const headless = isMap(svc?.['spec']) && svc['spec']['clusterIP'] === 'None';
    return headless
      ? []
      : [
          `${objectId(o)}: serviceName ${String(spec['serviceName'])} is not a headless Service here`,
        ];
  }
  if (o.kind === 'PodDisruptionBudget') {
    const workloads = inNamespace.filter((x) => WORKLOADS.has(x.kind));
    const selector = matchLabels(spec['selector'], objectId(o));
    return selected(o, workloads, selector).length > 0 ? [] : [`${objectId(o)}: selects no pods`];
  }
  if (o.kind === 'HorizontalPodAutoscaler') {
    const ref = isMap(spec['scaleTargetRef']) ? spec['scaleTargetRef'] : {};
    const found = inNamespace.some(
      (x) => x.kind === ref['kind'] && x.metadata.name === ref['name'],
    );
    return found
      ? []
      : [`${objectId(o)}: scaleTargetRef ${String(ref['kind'])}/${String(ref['name'])} not found`];
  }
  return [];
}

/** A YAML value in a message. */
function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
