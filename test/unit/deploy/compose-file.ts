/**
 * @module compose-file
 * Reads a compose file the way the deploy tests need it: YAML merge keys resolved, `${…}`
 * interpolated as Docker Compose does (optionally), and services normalised (ports as ranges,
 * environment as a map, volumes as source/target pairs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** The repository root (this file lives in test/unit/deploy). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

/** An inclusive port range; a single port has `from === to`. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** One `ports:` entry; `published` is null when Docker picks the host port. */
export interface PortMapping {
  readonly hostIp: string | null;
  readonly published: PortRange | null;
  readonly target: PortRange;
}

/** A service reduced to what the deploy tests check. */
export interface ComposeService {
  readonly name: string;
  readonly ports: readonly PortMapping[];
  readonly expose: readonly PortRange[];
  readonly volumes: readonly { readonly source: string; readonly target: string }[];
  readonly environment: Readonly<Record<string, string>>;
  readonly raw: Readonly<Record<string, unknown>>;
}

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const serviceSchema = z.looseObject({
  ports: z
    .array(
      z.union([
        z.string(),
        z.number(),
        z.looseObject({
          target: z.union([z.number(), z.string()]),
          published: z.union([z.number(), z.string()]).optional(),
          host_ip: z.string().optional(),
        }),
      ]),
    )
    .optional(),
  expose: z.array(z.union([z.string(), z.number()])).optional(),
  volumes: z
    .array(
      z.union([z.string(), z.looseObject({ source: z.string().optional(), target: z.string() })]),
    )
    .optional(),
  environment: z.union([z.record(z.string(), scalar), z.array(z.string())]).optional(),
});
const composeSchema = z.looseObject({ services: z.record(z.string(), serviceSchema) });
type PortEntry = NonNullable<z.infer<typeof serviceSchema>['ports']>[number];

const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;

/** Compose's `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`, `${VAR:+r}`, `${VAR+r}`, `$$`. */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  const substitute = (
    whole: string,
    name: string | undefined,
    op: string | undefined,
    argument: string | undefined,
  ): string => {
    if (name === undefined) {
      return '$';
    }
    const arg = argument ?? '';
    const value = env[name];
    const isSet = value !== undefined;
    const isFull = isSet && value !== '';
    switch (op) {
      case undefined:
        return value ?? '';
      case ':-':
        return isFull ? value : arg;
      case '-':
        return isSet ? value : arg;
      case ':+':
        return isFull ? arg : '';
      case '+':
        return isSet ? arg : '';
      case ':?':
      case '?':
        if (op === ':?' ? isFull : isSet) {
          return value ?? '';
        }
        throw new Error(`required variable ${name} is missing: ${arg}`);
      default:
        throw new Error(`unsupported interpolation ${whole}`);
    }
  };
  return text.replace(INTERPOLATION, substitute);
}

/** Every variable name the text interpolates (`$$` escapes excluded). */
export function interpolatedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(INTERPOLATION)) {
    if (m[1] !== undefined) {
      names.add(m[1]);
    }
  }
  return names;
}

function deepInterpolate(value: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') {
    return interpolate(value, env);
  }
  if (Array.isArray(value)) {
    return value.map((v) => deepInterpolate(v, env));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, deepInterpolate(v, env)] as const),
    );
  }
  return value;
}

/** Reads and normalises a compose file; with `env`, interpolates it first (throws on `:?`). */
export function readComposeFile(
  file: string,
  env?: Readonly<Record<string, string>>,
): Map<string, ComposeService> {
  const doc: unknown = parse(fs.readFileSync(file, 'utf8'), { merge: true });
  const parsed = composeSchema.parse(env ? deepInterpolate(doc, env) : doc);
  const services = new Map<string, ComposeService>();
  for (const [name, svc] of Object.entries(parsed.services)) {
    services.set(name, {
      name,
      ports: (svc.ports ?? []).map(parsePort),
      expose: (svc.expose ?? []).map((e) => parseRange(String(e))),
      volumes: (svc.volumes ?? []).map(parseVolume),
      environment: normaliseEnvironment(svc.environment),
      raw: svc,
    });
  }
  return services;
}

function parseRange(text: string): PortRange {
  const m = /^(\d+)(?:-(\d+))?(?:\/(?:tcp|udp|sctp))?$/.exec(text.trim());
  if (!m?.[1]) {
    throw new Error(`not a port or port range: ${text}`);
  }
  const from = Number(m[1]);
  return { from, to: m[2] ? Number(m[2]) : from };
}

/** Short syntax `[ip:][published:]target[/proto]` or the long syntax object. */
function parsePort(entry: PortEntry): PortMapping {
  if (typeof entry === 'object') {
    return {
      hostIp: entry.host_ip ?? null,
      published: entry.published === undefined ? null : parseRange(String(entry.published)),
      target: parseRange(String(entry.target)),
    };
  }
  const parts = String(entry).split(':');
  const target = parseRange(parts.pop() ?? '');
  const published = parts.length > 0 ? parseRange(parts.pop() ?? '') : null;
  return { hostIp: parts.length > 0 ? parts.join(':') : null, published, target };
}

function parseVolume(entry: string | { source?: string | undefined; target: string }): {
  source: string;
  target: string;
} {
  if (typeof entry === 'object') {
    return { source: entry.source ?? '', target: entry.target };
  }
  const [source = '', target = ''] = entry.split(':');
  return { source, target };
}

function normaliseEnvironment(
  env: Record<string, z.infer<typeof scalar>> | string[] | undefined,
): Record<string, string> {
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const eq = line.indexOf('=');
        return eq < 0 ? [line, ''] : [line.slice(0, eq), line.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)] as const),
  );
}

/** Whether a port range contains a port. */
export function rangeHas(range: PortRange | null, port: number): boolean {
  return range !== null && range.from <= port && port <= range.to;
}

/** Bytes in a compose size (`512m`, `1g`, `1gb`, `2048`). */
export function sizeBytes(size: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(String(size).trim());
  if (!m?.[1]) {
    throw new Error(`not a size: ${String(size)}`);
  }
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()];
  return Number(m[1]) * (unit ?? Number.NaN);
}

/** Services named worker-N, sorted by N. */
export function workerServices(services: Map<string, ComposeService>): ComposeService[] {
  return [...services.values()]
    .filter((s) => /^worker-\d+$/.test(s.name))
    .sort((a, b) => workerNumber(a.name) - workerNumber(b.name));
}

/** N of `worker-N`. */
export function workerNumber(name: string): number {
  return Number(/^worker-(\d+)$/.exec(name)?.[1] ?? Number.NaN);
}

/** The `NAME=value` lines of .env.example, in order. */
export function readEnvExample(): Map<string, string> {
  const text = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  const entries = text
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return new Map(entries);
}
