/**
 * @module check
 * What `npm run deploy:check` does, as a function: render every overlay, compare with the real
 * kustomize when there is one, validate the objects and the example files.
 */
import path from 'node:path';
import { readManifests, renderKustomization } from './kustomize.ts';
import { DEPLOY_DIR, exampleFiles, overlayDirs } from './layout.ts';
import { compareWithKustomize, findKustomize, type KustomizeTool } from './real-kustomize.ts';
import { schemaProblems, validateObjects } from './validate.ts';

/** The outcome: one summary line per overlay or example, and every problem found. */
export interface DeployCheckReport {
  readonly lines: string[];
  readonly problems: string[];
}

/** Checks the deploy folder `root` (deploy/k8s by default); `tool` null skips the comparison. */
export async function checkDeployDir(
  root = DEPLOY_DIR,
  tool: KustomizeTool | null = findKustomize(),
): Promise<DeployCheckReport> {
  const lines: string[] = [];
  const problems: string[] = [];
  const attempt = async (where: string, run: () => Promise<string>) => {
    try {
      lines.push(`${where}: ${await run()}`);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  for (const [name, dir] of overlayDirs(root)) {
    const where = `overlays/${name}`;
    await attempt(where, async () => {
      const objects = renderKustomization(dir);
      const found = [
        ...(await validateObjects(objects)),
        ...(tool ? compareWithKustomize(tool, dir, objects) : []),
      ];
      problems.push(...found.map((p) => `${where}: ${p}`));
      const compared = tool
        ? `compared with \`${tool.command} ${tool.args.join(' ')}\``
        : 'no kustomize installed to compare with';
      return `${objects.length} objects, ${found.length} problems, ${compared}`;
    });
  }
  for (const file of exampleFiles(root)) {
    const where = path.relative(root, file);
    await attempt(where, async () => {
      const objects = readManifests(file);
      const found = await schemaProblems(objects);
      problems.push(...found.map((p) => `${where}: ${p}`));
      return `${objects.length} objects, ${found.length} problems (schema only)`;
    });
  }
  return { lines, problems };
}
