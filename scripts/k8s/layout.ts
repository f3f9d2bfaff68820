/**
 * @module layout
 * Where the Kubernetes manifests live: every folder of deploy/k8s/overlays with a
 * kustomization.yaml is an overlay; `*.example.yaml` files are optional extras an operator adds.
 */
import fs from 'node:fs';
import path from 'node:path';

/** deploy/k8s in this repository. */
export const DEPLOY_DIR = path.resolve(import.meta.dirname, '../../deploy/k8s');

/** The overlays' folders, by name (e.g. `dev`, `production`). */
export function overlayDirs(root = DEPLOY_DIR): Map<string, string> {
  const overlays = path.join(root, 'overlays');
  return new Map(
    fs
      .readdirSync(overlays, { withFileTypes: true })
      .filter(
        (e) => e.isDirectory() && fs.existsSync(path.join(overlays, e.name, 'kustomization.yaml')),
      )
      .map((e) => [e.name, path.join(overlays, e.name)] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Every `*.example.yaml` under `root`. */
export function exampleFiles(root = DEPLOY_DIR): string[] {
  return fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.example.yaml'))
    .map((f) => path.join(root, f))
    .sort();
}
