/**
 * `npm run provision -- [--for stack|test|bench] [--dry-run]`: installs what the machine lacks
 * beyond `npm ci` (see scripts/lib/provision.ts). `npm test` runs it first (pretest), `npm run
 * stack` calls it in-process, and .ci/run calls it too. Exit 0 ready, 1 a person must act, 2 usage.
 */
import { parseArgs } from 'node:util';
import { PROVISION_PROFILES, provision, type ProvisionProfile } from './lib/provision.ts';

const USAGE = `Usage: npm run provision -- [--for ${PROVISION_PROFILES.join('|')}] [--dry-run]
  --for P     what to prepare for (default test: the stack plus shellcheck; bench adds nginx-light)
  --dry-run   print the commands (apt-get ..., useradd ...) instead of running them
`;

function main(): number {
  let values;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        for: { type: 'string', default: 'test' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(
      `provision: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`,
    );
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const profile = values.for as ProvisionProfile;
  if (!PROVISION_PROFILES.includes(profile)) {
    process.stderr.write(`provision: unknown --for ${values.for}\n${USAGE}`);
    return 2;
  }
  const result = provision({ profile, dryRun: values['dry-run'] });
  if (!result.ok) {
    process.stderr.write(`provision: ${result.problem ?? 'failed'}\n`);
    return 1;
  }
  return 0;
}

process.exit(main());
