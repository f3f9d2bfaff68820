/**
 * @module dockerfile-lint
 * A Dockerfile read into stages, and the hadolint rules that matter for Dockerfile.kasm checked
 * on it (hadolint itself has no Debian 12 or npm package that runs here). Each rule keeps
 * hadolint's code, so a finding reads the same as hadolint's would.
 */

/** One instruction, continuation lines joined, comments dropped. */
export interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** One `FROM … [AS name]` stage with its instructions. */
export interface Stage {
  readonly from: string;
  readonly name: string | null;
  readonly body: Instruction[];
}

/** A parsed Dockerfile: the ARGs before the first FROM, and the stages. */
export interface Dockerfile {
  readonly globals: Instruction[];
  readonly stages: Stage[];
}

/** Instructions with line continuations joined and comments (and parser directives) dropped. */
export function instructions(source: string): Instruction[] {
  const logical = source
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => /^\s*([A-Za-z]+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      op: (m[1] ?? '').toUpperCase(),
      args: (m[2] ?? '').replace(/\s+/g, ' ').trim(),
    }));
}

/** Splits the instructions into global ARGs and stages. */
export function parseDockerfile(source: string): Dockerfile {
  const globals: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions(source)) {
    if (ins.op === 'FROM') {
      const words = ins.args.split(' ').filter((w) => !w.startsWith('--'));
      stages.push({ from: words[0] ?? '', name: words[2] ?? null, body: [] });
    } else if (stages.length === 0) {
      globals.push(ins);
    } else {
      stages[stages.length - 1]?.body.push(ins);
    }
  }
  return { globals, stages };
}

/** The global ARG defaults (`ARG NAME=value`). */
export function argDefaults(file: Dockerfile): Map<string, string> {
  return new Map(
    file.globals
      .filter((i) => i.op === 'ARG' && i.args.includes('='))
      .map((i) => [i.args.slice(0, i.args.indexOf('=')), i.args.slice(i.args.indexOf('=') + 1)]),
  );
}

/** The args of every `op` instruction of a stage. */
export function argsOf(stage: Stage | undefined, op: string): string[] {
  return (stage?.body ?? []).filter((i) => i.op === op).map((i) => i.args);
}

/** One rule broken: hadolint's code, the stage, and what is wrong. */
export interface Finding {
  readonly rule: string;
  readonly stage: string;
  readonly message: string;
}

const isJsonArray = (args: string): boolean => {
  try {
    return Array.isArray(JSON.parse(args));
  } catch {
    return false;
  }
};

/** The stage's parent stage (FROM another stage of this file), or null for an image. */
function parentOf(file: Dockerfile, stage: Stage): Stage | null {
  return file.stages.find((s) => s.name !== null && s.name === stage.from) ?? null;
}

/** A value of `op` set in this stage or inherited from the stages it is built FROM. */
function inherited(file: Dockerfile, stage: Stage, op: string): string[] {
  const parent = parentOf(file, stage);
  return [...(parent ? inherited(file, parent, op) : []), ...argsOf(stage, op)];
}

function checkFrom(file: Dockerfile, stage: Stage, args: Map<string, string>, out: Finding[]) {
  if (parentOf(file, stage)) {
    return;
  }
  const image = stage.from.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? '');
  const tag = /^[^@]+?(?::([^/:@]+))?(@sha256:[0-9a-f]{64})?$/.exec(image);
  if (!tag?.[1] && !tag?.[2]) {
    out.push({
      rule: 'DL3006',
      stage: stage.name ?? stage.from,
      message: `untagged image ${image}`,
    });
  } else if (tag[1] === 'latest') {
    out.push({ rule: 'DL3007', stage: stage.name ?? stage.from, message: `${image} uses latest` });
  }
}

function checkRuns(file: Dockerfile, stage: Stage, out: Finding[]): void {
  const where = stage.name ?? stage.from;
  const pipefail = inherited(file, stage, 'SHELL').some((s) => /"-o",\s*"pipefail"/.test(s));
  for (const run of argsOf(stage, 'RUN')) {
    const add = (rule: string, message: string) => out.push({ rule, stage: where, message });
    if (/(^|[^|])\|([^|]|$)/.test(run) && !pipefail) {
      add('DL4006', `a pipe without SHELL ["/bin/bash", "-o", "pipefail", "-c"]: ${run}`);
    }
    if (/(^|[;&|]\s*)sudo\s/.test(run)) {
      add('DL3004', `sudo in RUN: ${run}`);
    }
    if (/(^|[;&|]\s*)cd\s/.test(run)) {
      add('DL3003', `cd in RUN (use WORKDIR): ${run}`);
    }
    if (/(^|[;&|]\s*)apt\s/.test(run)) {
      add('DL3027', `apt in RUN (use apt-get): ${run}`);
    }
    if (/apt-get\s+(-\S+\s+)*install/.test(run)) {
      if (!/--no-install-recommends/.test(run)) {
        add('DL3015', `apt-get install without --no-install-recommends: ${run}`);
      }
      if (!/\s(-y|--yes|--assume-yes)\b/.test(run)) {
        add('DL3014', `apt-get install without -y: ${run}`);
      }
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(run)) {
        add('DL3009', `apt lists not removed in the same RUN: ${run}`);
      }
    }
  }
}

function checkStage(file: Dockerfile, stage: Stage, args: Map<string, string>): Finding[] {
  const out: Finding[] = [];
  const where = stage.name ?? stage.from;
  checkFrom(file, stage, args, out);
  checkRuns(file, stage, out);
  for (const ins of stage.body) {
    if (ins.op === 'ADD') {
      out.push({ rule: 'DL3020', stage: where, message: `ADD instead of COPY: ${ins.args}` });
    }
    if ((ins.op === 'CMD' || ins.op === 'ENTRYPOINT') && !isJsonArray(ins.args)) {
      out.push({ rule: 'DL3025', stage: where, message: `${ins.op} not in JSON form` });
    }
    if (ins.op === 'WORKDIR' && !ins.args.startsWith('/')) {
      out.push({ rule: 'DL3000', stage: where, message: `relative WORKDIR ${ins.args}` });
    }
  }
  const parent = parentOf(file, stage);
  let workdir = parent ? inherited(file, parent, 'WORKDIR').length > 0 : false;
  for (const ins of stage.body) {
    workdir ||= ins.op === 'WORKDIR';
    const dest = ins.args.split(' ').at(-1) ?? '';
    if (ins.op === 'COPY' && !dest.startsWith('/') && !workdir) {
      out.push({ rule: 'DL3045', stage: where, message: `COPY to ${dest} before any WORKDIR` });
    }
  }
  return out;
}

/** Every finding in the file; `finalStages` must end with a non-root USER (DL3002). */
export function lintDockerfile(source: string, finalStages: readonly string[]): Finding[] {
  const file = parseDockerfile(source);
  const args = argDefaults(file);
  const findings = file.stages.flatMap((s) => checkStage(file, s, args));
  for (const name of finalStages) {
    const stage = file.stages.find((s) => s.name === name);
    const user = stage ? inherited(file, stage, 'USER').at(-1) : undefined;
    if (!stage || user === undefined || /^(root|0)(:|$)/.test(user)) {
      findings.push({ rule: 'DL3002', stage: name, message: `last USER is ${user ?? 'unset'}` });
    }
  }
  return findings;
}
