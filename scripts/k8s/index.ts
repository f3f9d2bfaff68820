/**
 * @module k8s
 * Rendering and offline validation of deploy/k8s (the kustomize base and its overlays), for
 * `npm run deploy:check` and the unit tests.
 */
export { checkDeployDir, type DeployCheckReport } from './check.ts';
export {
  objectId,
  podSpecOf,
  readManifests,
  renderKustomization,
  type K8sObject,
} from './kustomize.ts';
export { compareWithKustomize, findKustomize, type KustomizeTool } from './real-kustomize.ts';
export { isMap, strategicMerge, type YamlMap } from './strategic-merge.ts';
export {
  matchLabels,
  podLabels,
  referenceProblems,
  schemaProblems,
  selects,
  validateObjects,
} from './validate.ts';
export { DEPLOY_DIR, exampleFiles, overlayDirs } from './layout.ts';
