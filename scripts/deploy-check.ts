/**
 * `npm run deploy:check`: renders every overlay of deploy/k8s without a cluster, compares the
 * result with the real kustomize when one is installed, and validates every object offline
 * against the Kubernetes schemas and the references between objects. Exits 1 on any problem.
 */
import path from 'node:path';
import {
  DEPLOY_DIR,
  compareWithKustomize,
  exampleFiles,
  findKustomize,
  overlayDirs,
  readManifests,
  renderKustomization,
  schemaProblems,
  validateObjects,
} from './k8s/index.ts';

async function main(): Promise<number> {
  const tool = findKustomize();
  const lines: string[] = [];
  const problems: string[] = [];
  for (const [name, dir] of overlayDirs()) {
    const where = `overlays/${name}`;
    try {
      const objects = renderKustomization(dir);
      const found = await validateObjects(objects);
      const drift = tool ? compareWithKustomize(tool, dir, objects) : [];
      problems.push(...[...found, ...drift].map((p) => `${where}: ${p}`));
      const crossCheck = tool
        ? `same as \`${tool.command} ${tool.args.join(' ')}\``
        : 'no kustomize to compare with';
      lines.push(`${where}: ${objects.length} objects, ${found.length} problems, ${crossCheck}`);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const file of exampleFiles()) {
    const where = path.relative(DEPLOY_DIR, file);
    try {
      const objects = readManifests(file);
      const found = await schemaProblems(objects);
      problems.push(...found.map((p) => `${where}: ${p}`));
      lines.push(`${where}: ${objects.length} objects (schema only)`);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  lines.forEach((l) => console.log(`deploy:check ${l}`));
  problems.forEach((p) => console.error(`deploy:check FAIL ${p}`));
  console.log(
    problems.length === 0 ? 'deploy:check ok' : `deploy:check: ${problems.length} problems`,
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
