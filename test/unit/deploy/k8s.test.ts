/**
 * deploy/k8s, read as rendered objects (scripts/k8s renders the overlays as kustomize does):
 * CDP never leaves the pod, one set of volumes per account, the NetworkPolicies, probes, the
 * worker's identity and registry address from the pod, the gateway's availability, scaling by
 * one number, and every object valid against the Kubernetes schemas.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import {
  DEPLOY_DIR,
  compareWithKustomize,
  findKustomize,
  matchLabels,
  objectId,
  podLabels,
  renderKustomization,
  selects,
  validateObjects,
  type K8sObject,
} from '../../../scripts/k8s/index.ts';
import {
  OVERLAYS,
  admittedSources,
  containerEnv,
  containers,
  dataSources,
  field,
  find,
  list,
  rendered,
  workloads,
} from './k8s-objects.ts';

const CDP_PORT = 9222;
const VNC_PORT = 6901;
const tempDirs: string[] = [];

afterAll(() => {
  tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function worker(objects: readonly K8sObject[]): K8sObject {
  return find(objects, 'StatefulSet', 'worker');
}

describe.each(OVERLAYS)('deploy/k8s overlay %s', (overlay) => {
  const objects = rendered(overlay);
  const services = objects.filter((o) => o.kind === 'Service');

  it('renders valid objects: schemas and cross-references', async () => {
    expect(objects.length).toBeGreaterThan(8);
    expect(await validateObjects(objects)).toEqual([]);
  });

  it('never puts the CDP port in a Service, a containerPort or a NetworkPolicy', () => {
    const servicePorts = services.flatMap((s) => list(field(s, 'spec'), 'ports'));
    expect(servicePorts.length).toBeGreaterThan(0);
    for (const p of servicePorts) {
      expect([p['port'], p['targetPort'], p['nodePort']]).not.toContain(CDP_PORT);
    }
    const containerPorts = workloads(objects).flatMap((w) =>
      containers(w).flatMap((c) => list(c, 'ports')),
    );
    expect(containerPorts.map((p) => p['containerPort'])).not.toContain(CDP_PORT);
    expect(JSON.stringify(objects.filter((o) => o.kind === 'NetworkPolicy'))).not.toContain(
      String(CDP_PORT),
    );
    // The worker talks to Chrome on loopback only.
    const env = containers(worker(objects))[0]?.['env'];
    expect(JSON.stringify(env)).toContain('"http://127.0.0.1:9222"');
  });

  it('reaches VNC only through port-forward: no Service lists 6901 and none is public', () => {
    for (const s of services) {
      const ports = list(field(s, 'spec'), 'ports');
      expect(ports.flatMap((p) => [p['port'], p['targetPort']])).not.toContain(VNC_PORT);
      expect(ports.map((p) => p['targetPort'])).not.toContain('vnc');
      expect(field(s, 'spec')['type'] ?? 'ClusterIP').toBe('ClusterIP');
    }
    expect(objects.filter((o) => o.kind === 'Ingress')).toEqual([]);
  });

  it('gives every account its own profile and data volumes, and /dev/shm in memory', () => {
    const sts = worker(objects);
    const claims = list(field(sts, 'spec'), 'volumeClaimTemplates');
    expect(claims.map((c) => field(c, 'metadata')['name'])).toEqual(['chrome-profile', 'data']);
    for (const claim of claims) {
      expect(field(claim, 'spec')['accessModes']).toEqual(['ReadWriteOnce']);
    }
    const [c] = containers(sts);
    const mounts = Object.fromEntries(
      list(c ?? {}, 'volumeMounts').map((m) => [String(m['name']), m['mountPath']] as const),
    );
    expect(mounts).toEqual({
      'chrome-profile': '/home/kasm-user/chrome-profile',
      data: '/home/kasm-user/data',
      shm: '/dev/shm',
    });
    const env = Object.fromEntries(
      list(c ?? {}, 'env').map((e) => [String(e['name']), e['value']] as const),
    );
    expect(env['CHROME_PROFILE_DIR']).toBe('/home/kasm-user/chrome-profile');
    expect(env['DATA_DIR']).toBe('/home/kasm-user/data');
    const volumes = list(field(field(field(sts, 'spec'), 'template'), 'spec'), 'volumes');
    expect(volumes.map((v) => v['name'])).toEqual(['shm']);
    expect(field(volumes[0] ?? {}, 'emptyDir')['medium']).toBe('Memory');
    expect(field(sts, 'spec')['persistentVolumeClaimRetentionPolicy']).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
  });

  it('lets only gateways reach the workers API, and only workers and gateways reach Redis and PostgreSQL', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const gateway = find(objects, 'Deployment', 'gateway');
    const sts = worker(objects);
    const podOf = (component: string): K8sObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: component },
      spec: {
        template: {
          metadata: {
            labels: {
              'app.kubernetes.io/name': 'gemini-kasm',
              'app.kubernetes.io/component': component,
            },
          },
        },
      },
    });
    const stranger = podOf('stranger');
    const toWorker = admittedSources(policies, sts, 8000);
    expect([toWorker(gateway), toWorker(sts), toWorker(stranger)]).toEqual([true, false, false]);
    expect(admittedSources(policies, sts, VNC_PORT)(gateway)).toBe(false);
    const dbs =
      overlay === 'dev'
        ? [find(objects, 'Deployment', 'redis'), find(objects, 'Deployment', 'postgres')]
        : [podOf('redis'), podOf('postgres')];
    for (const [db, port] of [
      [dbs[0], 6379],
      [dbs[1], 5432],
    ] as const) {
      const admits = admittedSources(policies, db!, port);
      expect([admits(sts), admits(gateway), admits(stranger), admits(db!)]).toEqual([
        true,
        true,
        false,
        false,
      ]);
    }
  });

  it('probes every container, and the gateway is ready on /ready and alive on /health', () => {
    for (const w of workloads(objects)) {
      for (const c of containers(w)) {
        expect(c['readinessProbe'], `${objectId(w)} ${String(c['name'])}`).toBeDefined();
        expect(c['livenessProbe'], `${objectId(w)} ${String(c['name'])}`).toBeDefined();
        expect(field(c, 'resources')['requests'], `${objectId(w)} requests`).toBeDefined();
        expect(field(c, 'resources')['limits'], `${objectId(w)} limits`).toBeDefined();
      }
    }
    const [gw] = containers(find(objects, 'Deployment', 'gateway'));
    expect(field(field(gw ?? {}, 'readinessProbe'), 'httpGet')['path']).toBe('/ready');
    expect(field(field(gw ?? {}, 'livenessProbe'), 'httpGet')['path']).toBe('/health');
    expect(field(field(gw ?? {}, 'startupProbe'), 'httpGet')['path']).toBeUndefined();
    const [wk] = containers(worker(objects));
    expect(field(field(wk ?? {}, 'startupProbe'), 'httpGet')['path']).toBe('/health');
  });

  it('names each worker after its pod and registers it under its pod DNS name', () => {
    const sts = worker(objects);
    const [c] = containers(sts);
    const idEntry = list(c ?? {}, 'env').find((e) => e['name'] === 'GEMINI_WORKER_ID');
    expect(idEntry?.['valueFrom']).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(field(sts, 'spec')['serviceName']).toBe('workers');
    expect(field(find(objects, 'Service', 'workers'), 'spec')).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
    });
    const namespace = sts.metadata.namespace ?? 'default';
    const env = containerEnv(c ?? {}, {
      name: 'worker-2',
      namespace,
      sources: dataSources(objects),
    });
    const config = loadConfig('worker', env);
    expect(config.workerId).toBe('worker-2');
    expect(config.account).toBe('worker-2');
    expect(config.nodeUrl).toBe(`http://worker-2.workers.${namespace}.svc:8000`);
    expect(config.port).toBe(8000);
  });

  it('keeps at least two gateways through disruptions and scales them on CPU', () => {
    const gateway = find(objects, 'Deployment', 'gateway');
    expect(field(gateway, 'spec')['replicas']).toBeGreaterThanOrEqual(2);
    expect(containers(gateway)[0]?.['command']).toEqual(['node', 'dist/main.js', 'gateway']);
    const pdb = find(objects, 'PodDisruptionBudget', 'gateway');
    expect(selects(matchLabels(field(pdb, 'spec')['selector'], 'pdb'), podLabels(gateway))).toBe(
      true,
    );
    const hpa = field(find(objects, 'HorizontalPodAutoscaler', 'gateway'), 'spec');
    expect(hpa['scaleTargetRef']).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'gateway',
    });
    expect(hpa['minReplicas']).toBeGreaterThanOrEqual(2);
    // minAvailable below the floor, so a drain can always evict one.
    expect(field(pdb, 'spec')['minAvailable']).toBeLessThan(hpa['minReplicas'] as number);
    expect(list(hpa, 'metrics')[0]).toMatchObject({ type: 'Resource', resource: { name: 'cpu' } });
  });

  it('stops gracefully and runs without privileges (Pod Security "restricted")', () => {
    for (const w of [worker(objects), find(objects, 'Deployment', 'gateway')]) {
      const pod = field(field(w, 'spec'), 'template');
      expect(field(pod, 'spec')['terminationGracePeriodSeconds']).toBeGreaterThanOrEqual(60);
      expect(field(pod, 'spec')['automountServiceAccountToken']).toBe(false);
      expect(field(field(pod, 'spec'), 'securityContext')).toMatchObject({
        runAsUser: 1000,
        runAsNonRoot: true,
      });
    }
    for (const w of workloads(objects)) {
      expect(field(field(field(w, 'spec'), 'template'), 'spec')['securityContext']).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of containers(w)) {
        expect(field(c, 'securityContext'), objectId(w)).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });
});

describe('deploy/k8s scaling and rendering', () => {
  it('scales the accounts by one number in the overlay', () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-scale-'));
    tempDirs.push(copy);
    fs.cpSync(DEPLOY_DIR, copy, { recursive: true });
    const file = path.join(copy, 'overlays/production/kustomization.yaml');
    const text = fs.readFileSync(file, 'utf8');
    expect(text.match(/count: \d+/g)).toHaveLength(1);
    fs.writeFileSync(file, text.replace(/count: \d+/, 'count: 7'));
    const before = rendered('production');
    const after = renderKustomization(path.dirname(file));
    expect(field(worker(after), 'spec')['replicas']).toBe(7);
    expect(field(worker(before), 'spec')['replicas']).not.toBe(7);
    // Nothing else changed.
    const strip = (os: K8sObject[]) =>
      os.map((o) => (o === worker(os) ? { ...o, spec: { ...field(o, 'spec'), replicas: 0 } } : o));
    expect(strip(after)).toEqual(strip(before));
  });

  it('sets the production images and keeps the dev ones local', () => {
    const images = (overlay: string) => ({
      worker: containers(worker(rendered(overlay)))[0]?.['image'],
      gateway: containers(find(rendered(overlay), 'Deployment', 'gateway'))[0]?.['image'],
    });
    expect(images('production')).toEqual({
      worker: 'registry.example.com/gemini-kasm-worker:0.1.0',
      gateway: 'registry.example.com/gemini-kasm-gateway:0.1.0',
    });
    expect(images('dev')).toEqual({ worker: 'gemini-kasm-worker', gateway: 'gemini-kasm-gateway' });
  });

  it('tells in the README how to sign in a new account: the port-forward matches the manifests', () => {
    const readme = fs.readFileSync(path.join(DEPLOY_DIR, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## More than one host'));
    const sts = worker(rendered('production'));
    const vnc = list(containers(sts)[0] ?? {}, 'ports').find((p) => p['name'] === 'vnc');
    const command = `kubectl -n ${sts.metadata.namespace} port-forward pod/${sts.metadata.name}-3 ${String(vnc?.['containerPort'])}:${String(vnc?.['containerPort'])}`;
    expect(section).toContain(command);
    expect(section).toMatch(/`count` under `replicas:`/);
  });

  const tool = findKustomize();
  it.skipIf(!tool)('renders exactly what the real kustomize renders', () => {
    for (const overlay of OVERLAYS) {
      expect(
        compareWithKustomize(tool!, path.join(DEPLOY_DIR, 'overlays', overlay), rendered(overlay)),
      ).toEqual([]);
    }
  });
});
