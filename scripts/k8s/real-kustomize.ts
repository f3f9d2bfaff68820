/**
 * @module real-kustomize
 * The real kustomize, when this machine has one (`kustomize`, or the copy built into `kubectl`):
 * deploy:check renders each overlay with it too and insists on the same objects, so our small
 * renderer can never drift from what `kubectl apply -k` would send.
 */
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { objectId, type K8sObject } from './kustomize.ts';

/** A kustomize program and the arguments that precede the folder. */
export interface KustomizeTool {
  readonly command: string;
  readonly args: readonly string[];
}

const CANDIDATES: readonly KustomizeTool[] = [
  { command: 'kustomize', args: ['build'] },
  { command: 'kubectl', args: ['kustomize'] },
];

/** The first kustomize found on PATH, or null. */
export function findKustomize(): KustomizeTool | null {
  return (
    CANDIDATES.find((tool) => {
      const probe = spawnSync(tool.command, [...tool.args, '--help'], { encoding: 'utf8' });
      return probe.status === 0;
    }) ?? null
  );
}

/** Renders `dir` with `tool`; the differences from `ours`, one line each (empty when the same). */
export function compareWithKustomize(
  tool: KustomizeTool,
  dir: string,
  ours: readonly K8sObject[],
): string[] {
  const run = spawnSync(tool.command, [...tool.args, dir], { encoding: 'utf8' });
  if (run.status !== 0) {
    return [`${tool.command} ${tool.args.join(' ')} failed: ${run.stderr.trim()}`];
  }
  const theirs = new Map(
    parseAllDocuments(run.stdout).map((doc) => {
      const o = doc.toJS() as K8sObject;
      return [objectId(o), o] as const;
    }),
  );
  const problems = ours.flatMap((o) => {
    const id = objectId(o);
    const other = theirs.get(id);
    theirs.delete(id);
    if (!other) {
      return [`${id}: rendered here, not by kustomize`];
    }
    return isDeepStrictEqual(JSON.parse(JSON.stringify(o)), other)
      ? []
      : [`${id}: differs from kustomize's rendering`];
  });
  return [...problems, ...[...theirs.keys()].map((id) => `${id}: rendered by kustomize, not here`)];
}
