/**
 * scripts/k8s, the renderer and checker behind `npm run deploy:check`: strategic merge as the API
 * server does it for the lists we patch, refusal of kustomize fields it does not resolve, and
 * failures for objects a cluster would reject or never start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEPLOY_DIR,
  checkDeployDir,
  renderKustomization,
  schemaProblems,
  strategicMerge,
  validateObjects,
  type K8sObject,
} from '../../../scripts/k8s/index.ts';

const tempDirs: string[] = [];

afterAll(() => {
  tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function tempCopyOfDeploy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-render-'));
  tempDirs.push(dir);
  fs.cpSync(DEPLOY_DIR, dir, { recursive: true });
  return dir;
}

function deployment(overrides: Record<string, unknown> = {}): K8sObject {
  const labels = { app: 'x' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', namespace: 'ns' },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'i',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
              ...overrides,
            },
          ],
        },
      },
    },
  };
}

describe('strategicMerge', () => {
  const base = {
    containers: [
      {
        name: 'a',
        image: 'a:1',
        env: [
          { name: 'X', value: '1' },
          { name: 'Y', value: '2' },
        ],
      },
      { name: 'b', image: 'b:1', args: ['--one', '--two'] },
    ],
    keep: { me: true, drop: 'this' },
  };

  it('merges containers and env by name, replaces other lists, deletes on null', () => {
    const out = strategicMerge(base, {
      containers: [
        {
          name: 'a',
          env: [
            { name: 'Y', value: '3' },
            { name: 'Z', value: '4' },
          ],
        },
        { name: 'b', args: ['--three'] },
        { name: 'c', image: 'c:1' },
      ],
      keep: { drop: null },
    });
    expect(out).toEqual({
      containers: [
        {
          name: 'a',
          image: 'a:1',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '3' },
            { name: 'Z', value: '4' },
          ],
        },
        { name: 'b', image: 'b:1', args: ['--three'] },
        { name: 'c', image: 'c:1' },
      ],
      keep: { me: true },
    });
    expect(base.containers[0]?.env).toHaveLength(2);
  });

  it('refuses directives it does not implement and items without their merge key', () => {
    expect(() => strategicMerge(base, { containers: [{ $patch: 'delete', name: 'a' }] })).toThrow(
      /\$patch/,
    );
    expect(() => strategicMerge(base, { containers: [{ image: 'no-name' }] })).toThrow(/name/);
  });
});

describe('renderKustomization', () => {
  it('refuses a kustomization field it does not resolve', () => {
    const dir = tempCopyOfDeploy();
    const file = path.join(dir, 'overlays/dev/kustomization.yaml');
    fs.appendFileSync(file, 'namePrefix: gk-\n');
    expect(() => renderKustomization(path.dirname(file))).toThrow(/namePrefix not supported/);
  });

  it('refuses a patch that matches nothing and a replicas entry for a missing workload', () => {
    const dir = tempCopyOfDeploy();
    const patch = path.join(dir, 'overlays/dev/worker-resources.yaml');
    fs.writeFileSync(
      patch,
      fs.readFileSync(patch, 'utf8').replace('name: worker\n', 'name: wroker\n'),
    );
    expect(() => renderKustomization(path.join(dir, 'overlays/dev'))).toThrow(/matches 0 objects/);
    const prod = path.join(dir, 'overlays/production/kustomization.yaml');
    fs.writeFileSync(
      prod,
      fs.readFileSync(prod, 'utf8').replace('- name: worker', '- name: nobody'),
    );
    expect(() => renderKustomization(path.dirname(prod))).toThrow(/no workload named nobody/);
  });
});

describe('validateObjects', () => {
  it('accepts a consistent object', async () => {
    expect(await validateObjects([deployment()])).toEqual([]);
  });

  it('rejects what the API server would reject', async () => {
    const wrongType = await validateObjects([deployment({ ports: [{ containerPort: '8080' }] })]);
    expect(wrongType.join('\n')).toMatch(/containerPort must be integer/);
    const unknownKind = await validateObjects([{ ...deployment(), kind: 'Deploymnet' }]);
    expect(unknownKind.join('\n')).toMatch(/no schema for apps\/v1 Deploymnet/);
  });

  it('rejects fields the API does not know, at any depth, and accepts any key in a map', async () => {
    const typo = deployment({ readinesProbe: { httpGet: { path: '/', port: 'http' } } });
    const labelled = deployment();
    (labelled.metadata as Record<string, unknown>)['labels'] = { 'any/label': 'x' };
    const claim: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'st', namespace: 'ns' },
      spec: {
        serviceName: 'st',
        selector: { matchLabels: { app: 'st' } },
        template: { metadata: { labels: { app: 'st' } }, spec: { containers: [{ name: 'c' }] } },
        volumeClaimTemplates: [
          {
            // ObjectMeta comes from another package (@kubernetes-models/apimachinery).
            metadata: { name: 'v', lables: { app: 'st' } },
            spec: { accesModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    };
    expect(await schemaProblems([typo, labelled, claim])).toEqual([
      'Deployment ns/x: /spec/template/spec/containers[0]/readinesProbe: unknown field "readinesProbe"',
      'StatefulSet ns/st: /spec/volumeClaimTemplates[0]/metadata/lables: unknown field "lables"',
      'StatefulSet ns/st: /spec/volumeClaimTemplates[0]/spec/accesModes: unknown field "accesModes"',
    ]);
  });

  it('rejects broken references: probe port, Service selector, missing Secret key', async () => {
    const probe = await validateObjects([
      deployment({ readinessProbe: { httpGet: { path: '/', port: 'api' } } }),
    ]);
    expect(probe).toEqual([
      'Deployment ns/x container c: readinessProbe uses port api, which no container declares',
    ]);
    const service: K8sObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'ns' },
      spec: { selector: { app: 'y' }, ports: [{ port: 80, targetPort: 'http' }] },
    };
    expect(await validateObjects([deployment(), service])).toEqual([
      'Service ns/s: selects no pods',
    ]);
    const secret: K8sObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sec', namespace: 'ns' },
      stringData: { A: 'a' },
    };
    const env = [{ name: 'B', valueFrom: { secretKeyRef: { name: 'sec', key: 'B' } } }];
    expect(await validateObjects([deployment({ env }), secret])).toEqual([
      'Deployment ns/x container c env B: Secret sec has no key B',
    ]);
  });
});

describe('checkDeployDir', () => {
  it('passes on the repository and fails on an invalid object in an overlay', async () => {
    expect((await checkDeployDir(DEPLOY_DIR, null)).problems).toEqual([]);
    const dir = tempCopyOfDeploy();
    const hpa = path.join(dir, 'base/gateway-hpa.yaml');
    fs.writeFileSync(
      hpa,
      fs.readFileSync(hpa, 'utf8').replace('minReplicas: 2', 'minReplicas: two'),
    );
    const report = await checkDeployDir(dir, null);
    expect(report.problems.join('\n')).toMatch(
      /overlays\/dev: HorizontalPodAutoscaler gemini-kasm-dev\/gateway: .*minReplicas must be integer/,
    );
    expect(report.problems.some((p) => p.startsWith('overlays/production:'))).toBe(true);
  });
});
