/**
 * `npm run deploy:check [deploy-dir]`: renders every overlay of deploy/k8s without a cluster,
 * compares the result with the real kustomize when one is installed (kustomize or kubectl), and
 * validates every object offline against the Kubernetes schemas and the references between
 * objects. Exits 1 on any problem.
 */
import path from 'node:path';
import { checkDeployDir } from './k8s/index.ts';

const root = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
const { lines, problems } = await checkDeployDir(root);
lines.forEach((line) => console.log(`deploy:check ${line}`));
problems.forEach((problem) => console.error(`deploy:check FAIL ${problem}`));
console.log(
  problems.length === 0 ? 'deploy:check ok' : `deploy:check: ${problems.length} problems`,
);
process.exitCode = problems.length === 0 ? 0 : 1;
