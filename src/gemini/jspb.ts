/**
 * Tolerant reads of JSPB-style arrays. High-numbered fields may arrive in a trailing object keyed
 * by field number (index + 1): `[null,[cid,rid],{"26":ctx}]` holds index 25. Every read accepts
 * both forms at every level, and yields undefined instead of throwing on any other shape.
 */

type Key = number | string;

/** The value at `path`, reading positional and sparse forms alike; undefined when absent. */
export function jspbAt(value: unknown, ...path: readonly Key[]): unknown {
  let cur = value;
  for (const key of path) {
    cur = field(cur, key);
    if (cur === undefined) {
      return undefined;
    }
  }
  return cur;
}

/** The string at `path`, or undefined. */
export function jspbString(value: unknown, ...path: readonly Key[]): string | undefined {
  const v = jspbAt(value, ...path);
  return typeof v === 'string' ? v : undefined;
}

/** The finite number at `path`, or undefined. */
export function jspbNumber(value: unknown, ...path: readonly Key[]): number | undefined {
  const v = jspbAt(value, ...path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The array at `path`, or an empty one. */
export function jspbArray(value: unknown, ...path: readonly Key[]): readonly unknown[] {
  const v = jspbAt(value, ...path);
  return Array.isArray(v) ? v : [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(container: unknown, key: Key): unknown {
  if (isRecord(container)) {
    const v = container[typeof key === 'number' ? String(key + 1) : key];
    return v ?? undefined;
  }
  if (!Array.isArray(container) || typeof key !== 'number') {
    return undefined;
  }
  const last: unknown = container[container.length - 1];
  const sparse = isRecord(last) ? last : null;
  const positional = sparse ? container.length - 1 : container.length;
  if (key >= 0 && key < positional) {
    const v: unknown = container[key];
    if (v !== null && v !== undefined) {
      return v;
    }
  }
  return sparse ? (sparse[String(key + 1)] ?? undefined) : undefined;
}
