/**
 * A small value that satisfies a JSON schema, for the emulator's structured-output answers:
 * every required (or, when none are named, every) property, the first enum value or const,
 * minimums respected, one array item.
 */

/** A deterministic sample value for `schema`. */
export function sampleFromSchema(schema: unknown, depth = 0): unknown {
  if (schema === null || typeof schema !== 'object' || depth > 8) {
    return null;
  }
  const s = schema as Record<string, unknown>;
  if ('const' in s) {
    return s['const'];
  }
  if (Array.isArray(s['enum']) && s['enum'].length > 0) {
    return s['enum'][0] as unknown;
  }
  const variants = s['anyOf'] ?? s['oneOf'];
  if (Array.isArray(variants) && variants.length > 0) {
    return sampleFromSchema(variants[0], depth + 1);
  }
  const type = Array.isArray(s['type']) ? (s['type'][0] as unknown) : s['type'];
  switch (type) {
    case 'string':
      return 'example';
    case 'integer':
    case 'number':
      return typeof s['minimum'] === 'number' ? s['minimum'] : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return [sampleFromSchema(s['items'], depth + 1)];
    default:
      return sampleObject(s, depth);
  }
}

function sampleObject(s: Record<string, unknown>, depth: number): Record<string, unknown> {
  const properties = (s['properties'] ?? {}) as Record<string, unknown>;
  const required = Array.isArray(s['required'])
    ? s['required'].filter((k): k is string => typeof k === 'string')
    : Object.keys(properties);
  return Object.fromEntries(
    required.map((key) => [key, sampleFromSchema(properties[key], depth + 1)]),
  );
}
