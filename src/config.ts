/**
 * @module config
 * The only reader of process.env. Every variable is parsed once, checked with zod, and frozen;
 * a bad value stops start-up with one message that lists every problem.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  bool,
  emptyToUndefined,
  host,
  int,
  modelMap,
  num,
  optionalPort,
  port,
  str,
} from './config-fields.ts';

export type Role = 'worker' | 'gateway' | 'emulator';

const envSchema = z.object({
  PORT: optionalPort(),
  GEMINI_WORKER_ID: str(),
  GEMINI_ACCOUNT: str(),
  GEMINI_WEIGHT: num(1.0),
  EXTERNAL_HOST: host(),
  EXTERNAL_IP: host(),
  EXTERNAL_PORT: optionalPort(),
  DATABASE_URL: str(),
  DB_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  DB_PORT: port(5432),
  DB_USER: z.preprocess(emptyToUndefined, z.string().default('postgres')),
  DB_PASSWORD: z.preprocess(emptyToUndefined, z.string().default('')),
  DB_NAME: z.preprocess(emptyToUndefined, z.string().default('postgres')),
  REDIS_URL: z.preprocess(emptyToUndefined, z.url().default('redis://127.0.0.1:6379')),
  CHROME_CDP_URL: z.preprocess(
    emptyToUndefined,
    z.union([z.literal('off'), z.url()]).default('http://127.0.0.1:9222'),
  ),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  API_KEYS: str(),
  ADMIN_API_KEYS: str(),
  API_KEYS_FILE: str(),
  ADMIN_API_KEYS_FILE: str(),
  ALLOW_NO_AUTH: bool(false),
  TRUST_PROXY: str(),
  IMAGE_URL_ALLOW_PRIVATE: bool(false),
  IMAGE_FETCH_TIMEOUT_MS: int(15_000, 100),
  RETENTION_IMAGES_H: num(24),
  RETENTION_UPLOADS_H: num(24),
  RETENTION_CONVERSATIONS_D: num(14),
  RETENTION_SWEEP_INTERVAL_S: int(600, 1),
  DEBUG: bool(false),
  HOST_RESOLVER_RULES: str(),
  GEMINI_TRANSPORT: z.preprocess(emptyToUndefined, z.enum(['node', 'page']).default('node')),
  // Tunables. Defaults follow DESIGN.md's failure semantics.
  GEMINI_KEEPALIVE_INTERVAL_S: int(600, 10),
  GEMINI_COOKIE_CACHE_MS: int(5000, 0),
  GEMINI_COOLDOWN_QUOTA_S: int(3600, 1),
  GEMINI_COOLDOWN_JITTER_S: int(300, 0),
  GEMINI_COOLDOWN_TRANSIENT_S: int(60, 1),
  GEMINI_STALL_TIMEOUT_MS: int(120_000, 100),
  GEMINI_REQUEST_TIMEOUT_MS: int(300_000, 1000),
  GEMINI_QUEUE_WAIT_MS: int(60_000, 100),
  GEMINI_QUEUE_MAX_LENGTH: int(20, 1),
  HEARTBEAT_INTERVAL_MS: int(5000, 100),
  MODEL_DISCOVERY_INTERVAL_S: int(600, 0),
  GEMINI_CANARY_INTERVAL_S: int(0, 0),
  GEMINI_REQUEST_FORM: z.preprocess(emptyToUndefined, z.enum(['69', '102']).default('69')),
  MAX_BODY_BYTES: int(4 * 1024 * 1024, 1024),
  MAX_UPLOAD_BYTES: int(20 * 1024 * 1024, 1024),
  MAX_PROMPT_CHARS: int(500_000, 1),
  // The web app's input box takes about 30k characters; a longer prompt goes as message.txt.
  PROMPT_INLINE_MAX_CHARS: int(30_000, 100),
  SSE_KEEPALIVE_MS: int(15_000, 10),
  // Claude names -> our models: haiku to Flash, the rest to Pro, unless the operator says.
  ANTHROPIC_MODEL_MAP: modelMap('claude-*haiku*=gemini-3-flash,claude-*=gemini-3.0-pro'),
  MAX_IMAGE_BYTES: int(10 * 1024 * 1024, 1024),
  MAX_IMAGES_PER_REQUEST: int(10, 1, 1000),
  GATEWAY_NODE_FRESH_S: int(15, 1),
  GATEWAY_MAX_ATTEMPTS: int(3, 1, 10),
  GATEWAY_REGISTRY_MAX_STALE_S: int(300, 1),
  GATEWAY_VNC_URL_TEMPLATE: str().refine((v) => v === undefined || /^https?:\/\//i.test(v), {
    message: 'expected an http(s) URL; {account}, {worker_id} and {node_host} are filled in',
  }),
  EMULATOR_PORT: port(8443),
  EMULATOR_CERT_DIR: z.preprocess(emptyToUndefined, z.string().default('./data/emulator-ca')),
});

type Env = z.infer<typeof envSchema>;

export interface DatabaseConfig {
  /** A full connection string; never logged (it may hold the password). */
  readonly connectionString: string;
}

export interface Config {
  readonly role: Role;
  readonly port: number;
  readonly debug: boolean;
  /** User keys (API_KEYS). */
  readonly apiKeys: readonly string[];
  /** Admin keys (ADMIN_API_KEYS): admin routes, the dashboard's data, /metrics, and user routes. */
  readonly adminApiKeys: readonly string[];
  /** Files with more keys, one a line; re-read on SIGHUP and when they change. */
  readonly apiKeysFile: string | null;
  readonly adminApiKeysFile: string | null;
  /** Only then may every key list be empty (callers are 'anonymous', with admin rights). */
  readonly allowNoAuth: boolean;
  /** express's `trust proxy` (TRUST_PROXY: addresses, subnets or loopback/uniquelocal); false when unset. */
  readonly trustProxy: string | false;
  readonly imageFetch: { readonly allowPrivate: boolean; readonly timeoutMs: number };
  /** How long stored files live; 0 keeps them forever. */
  readonly retention: {
    readonly imagesMs: number;
    readonly uploadsMs: number;
    readonly conversationsMs: number;
    readonly sweepIntervalMs: number;
  };
  readonly dataDir: string;
  readonly workerId: string;
  /** The Google account this worker serves; names its queue and its cooldown. */
  readonly account: string;
  readonly weight: number;
  readonly nodeUrl: string;
  readonly database: DatabaseConfig;
  readonly redisUrl: string;
  /** null when the worker runs without a browser (cookie_cache.json only). */
  readonly cdpUrl: string | null;
  readonly hostResolverRules: string | null;
  /** Who sends upstream requests: this process (`node`) or the signed-in tab (`page`). */
  readonly transport: 'node' | 'page';
  readonly keepAliveIntervalMs: number;
  readonly cookieCacheMs: number;
  readonly cooldown: {
    readonly quotaMs: number;
    readonly jitterMs: number;
    readonly transientMs: number;
  };
  readonly stallTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly queue: { readonly waitMs: number; readonly maxLength: number };
  readonly heartbeatIntervalMs: number;
  /** How often the account is asked for its tier and models (otAQ7b); 0: at start only. */
  readonly discoveryIntervalMs: number;
  /** How often a canary prompt runs through the account to detect protocol drift; 0: off. */
  readonly canaryIntervalMs: number;
  /** StreamGenerate's inner array: the 69-slot form, or the newer 102-slot one. */
  readonly requestForm: 69 | 102;
  readonly limits: {
    readonly bodyBytes: number;
    readonly uploadBytes: number;
    /** Longest prompt (characters) a chat request may send; longer gets 413 before queueing. */
    readonly promptChars: number;
    /** Longest prompt sent inline; a longer one goes as an attached message.txt. */
    readonly promptInlineChars: number;
    readonly imageBytes: number;
    readonly imagesPerRequest: number;
  };
  /** A committed stream that stays silent this long gets a `: keep-alive` comment. */
  readonly sseKeepAliveMs: number;
  /** Anthropic model names (exact or `*` globs) -> our models (ANTHROPIC_MODEL_MAP). */
  readonly anthropicModelMap: Readonly<Record<string, string>>;
  readonly gateway: {
    readonly nodeFreshMs: number;
    readonly maxAttempts: number;
    /** How long the gateway routes on its last node table while PostgreSQL is unreachable. */
    readonly registryMaxStaleMs: number;
    /** The console's "Open VNC" link; {account}, {worker_id}, {node_host} filled in; null: none. */
    readonly vncUrlTemplate: string | null;
  };
  readonly emulator: { readonly port: number; readonly certDir: string };
}

/** Raised when the environment is invalid; its message lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_PORTS: Record<Role, number> = { worker: 8000, gateway: 8080, emulator: 8443 };

/** Parses the environment for one role. Throws ConfigError listing every bad variable. */
export function loadConfig(role: Role, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Values are left out on purpose: a bad variable may be a secret.
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  if (parsed.data.GEMINI_TRANSPORT === 'page' && parsed.data.CHROME_CDP_URL === 'off') {
    throw new ConfigError(['GEMINI_TRANSPORT: page needs a browser (CHROME_CDP_URL is off)']);
  }
  return Object.freeze(buildConfig(role, parsed.data));
}

function buildConfig(role: Role, e: Env): Config {
  const port = e.PORT ?? DEFAULT_PORTS[role];
  const workerId = e.GEMINI_WORKER_ID ?? 'gemini-worker-01';
  // EXTERNAL_HOST (e.g. a pod's DNS name under a headless Service) wins over the seed's EXTERNAL_IP.
  const externalHost = e.EXTERNAL_HOST ?? e.EXTERNAL_IP ?? detectExternalIp();
  const nodeHost = net.isIPv6(externalHost) ? `[${externalHost}]` : externalHost;
  return {
    role,
    port,
    debug: e.DEBUG,
    apiKeys: keyList(e.API_KEYS),
    adminApiKeys: keyList(e.ADMIN_API_KEYS),
    apiKeysFile: e.API_KEYS_FILE ? path.resolve(e.API_KEYS_FILE) : null,
    adminApiKeysFile: e.ADMIN_API_KEYS_FILE ? path.resolve(e.ADMIN_API_KEYS_FILE) : null,
    allowNoAuth: e.ALLOW_NO_AUTH,
    trustProxy: e.TRUST_PROXY ?? false,
    imageFetch: { allowPrivate: e.IMAGE_URL_ALLOW_PRIVATE, timeoutMs: e.IMAGE_FETCH_TIMEOUT_MS },
    retention: {
      imagesMs: e.RETENTION_IMAGES_H * HOUR_MS,
      uploadsMs: e.RETENTION_UPLOADS_H * HOUR_MS,
      conversationsMs: e.RETENTION_CONVERSATIONS_D * 24 * HOUR_MS,
      sweepIntervalMs: e.RETENTION_SWEEP_INTERVAL_S * 1000,
    },
    dataDir: path.resolve(e.DATA_DIR),
    workerId,
    account: e.GEMINI_ACCOUNT ?? workerId,
    weight: e.GEMINI_WEIGHT,
    nodeUrl: `http://${nodeHost}:${e.EXTERNAL_PORT ?? port}`,
    database: { connectionString: e.DATABASE_URL ?? databaseUrlFromParts(e) },
    redisUrl: e.REDIS_URL,
    cdpUrl: e.CHROME_CDP_URL === 'off' ? null : e.CHROME_CDP_URL,
    hostResolverRules: e.HOST_RESOLVER_RULES ?? null,
    transport: e.GEMINI_TRANSPORT,
    keepAliveIntervalMs: e.GEMINI_KEEPALIVE_INTERVAL_S * 1000,
    cookieCacheMs: e.GEMINI_COOKIE_CACHE_MS,
    cooldown: {
      quotaMs: e.GEMINI_COOLDOWN_QUOTA_S * 1000,
      jitterMs: e.GEMINI_COOLDOWN_JITTER_S * 1000,
      transientMs: e.GEMINI_COOLDOWN_TRANSIENT_S * 1000,
    },
    stallTimeoutMs: e.GEMINI_STALL_TIMEOUT_MS,
    requestTimeoutMs: e.GEMINI_REQUEST_TIMEOUT_MS,
    queue: { waitMs: e.GEMINI_QUEUE_WAIT_MS, maxLength: e.GEMINI_QUEUE_MAX_LENGTH },
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    discoveryIntervalMs: e.MODEL_DISCOVERY_INTERVAL_S * 1000,
    canaryIntervalMs: e.GEMINI_CANARY_INTERVAL_S * 1000,
    requestForm: e.GEMINI_REQUEST_FORM === '102' ? 102 : 69,
    limits: {
      bodyBytes: e.MAX_BODY_BYTES,
      uploadBytes: e.MAX_UPLOAD_BYTES,
      promptChars: e.MAX_PROMPT_CHARS,
      promptInlineChars: e.PROMPT_INLINE_MAX_CHARS,
      imageBytes: e.MAX_IMAGE_BYTES,
      imagesPerRequest: e.MAX_IMAGES_PER_REQUEST,
    },
    sseKeepAliveMs: e.SSE_KEEPALIVE_MS,
    anthropicModelMap: Object.freeze(e.ANTHROPIC_MODEL_MAP),
    gateway: {
      nodeFreshMs: e.GATEWAY_NODE_FRESH_S * 1000,
      maxAttempts: e.GATEWAY_MAX_ATTEMPTS,
      registryMaxStaleMs: e.GATEWAY_REGISTRY_MAX_STALE_S * 1000,
      vncUrlTemplate: e.GATEWAY_VNC_URL_TEMPLATE ?? null,
    },
    emulator: { port: e.EMULATOR_PORT, certDir: path.resolve(e.EMULATOR_CERT_DIR) },
  };
}

const HOUR_MS = 3_600_000;

/** A comma (or newline) separated key list, blanks dropped. */
function keyList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter(Boolean);
}

function databaseUrlFromParts(e: Env): string {
  const auth = e.DB_PASSWORD
    ? `${encodeURIComponent(e.DB_USER)}:${encodeURIComponent(e.DB_PASSWORD)}`
    : encodeURIComponent(e.DB_USER);
  return `postgresql://${auth}@${e.DB_HOST}:${e.DB_PORT}/${encodeURIComponent(e.DB_NAME)}`;
}

/** The first non-internal IPv4 address, as the seed auto-detected it; loopback as a last resort. */
function detectExternalIp(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) {
      return v4.address;
    }
  }
  return '127.0.0.1';
}
