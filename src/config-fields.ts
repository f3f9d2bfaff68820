/**
 * The zod field types config.ts builds its environment schema from: how an empty value, a
 * number, a port, a host, a boolean and a model map are read. It reads no environment itself.
 */
import net from 'node:net';
import { z } from 'zod';

/** An empty or blank value counts as unset, so the default applies. */
export const emptyToUndefined = (v: unknown): unknown =>
  typeof v === 'string' && v.trim() === '' ? undefined : v;

/** An optional trimmed string. */
export const str = () => z.preprocess(emptyToUndefined, z.string().trim().optional());
/** An integer within [min, max], `def` when unset. */
export const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(def));
/** A number at least `min`, `def` when unset. */
export const num = (def: number, min = 0) =>
  z.preprocess(emptyToUndefined, z.coerce.number().min(min).default(def));
/** A TCP port, `def` when unset. */
export const port = (def: number) => int(def, 0, 65535);
/** A TCP port, or undefined when unset. */
export const optionalPort = () =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).optional());
// A DNS name or an IP literal, as it goes between `http://` and `:port` in node_url.
const DNS_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
/** A host name or IP literal, as it goes between `http://` and `:port`. */
export const host = () =>
  str().refine((v) => v === undefined || net.isIP(v) !== 0 || DNS_NAME.test(v), {
    message: 'expected a host name or an IP address (no scheme, port or path)',
  });
/** 1/0, true/false, yes/no, on/off (any case), `def` when unset. */
export const bool = (def: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
    z
      .enum(['', '1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
      .default(def ? 'true' : 'false')
      .transform((v) => (v === '' ? def : ['1', 'true', 'yes', 'on'].includes(v))),
  );

/** `name=model` pairs, comma separated; a name may hold `*` globs (`claude-*opus*`). */
export const modelMap = (def: string) =>
  z.preprocess(emptyToUndefined, z.string().default(def)).transform((value, ctx) => {
    const entries = value.split(',').map((e) => e.trim());
    const bad = entries.filter((e) => e !== '' && !/^[\w.*:-]+\s*=\s*[\w.:-]+$/.test(e));
    bad.forEach((e) => ctx.addIssue({ code: 'custom', message: `'${e}' is not name=model` }));
    return Object.fromEntries(
      entries.filter(Boolean).map((e) => e.split('=').map((p) => p.trim()) as [string, string]),
    );
  });
