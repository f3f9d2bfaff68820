/**
 * Gemini's OpenAPI-style Schema (responseSchema, functionDeclarations.parameters: uppercase
 * types, `nullable`, `propertyOrdering`) -> the JSON schema the core validates with.
 */

const DROPPED = new Set(['nullable', 'propertyOrdering', 'example']);

/** Converts one OpenAPI-style schema (recursively) into a JSON schema. */
export function openApiToJsonSchema(
  schema: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) {
      continue;
    }
    if (key === 'type' && typeof value === 'string') {
      if (value.toUpperCase() !== 'TYPE_UNSPECIFIED') {
        out['type'] = value.toLowerCase();
      }
    } else if (key === 'properties' && isRecord(value)) {
      out['properties'] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          isRecord(sub) ? openApiToJsonSchema(sub) : sub,
        ]),
      );
    } else if (key === 'items' && isRecord(value)) {
      out['items'] = openApiToJsonSchema(value);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((sub: unknown) => (isRecord(sub) ? openApiToJsonSchema(sub) : sub));
    } else {
      out[key] = value;
    }
  }
  if (schema['nullable'] === true) {
    return nullable(out);
  }
  return out;
}

function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  if (typeof schema['type'] === 'string') {
    const withNull = { ...schema, type: [schema['type'], 'null'] };
    return Array.isArray(schema['enum'])
      ? { ...withNull, enum: [...(schema['enum'] as unknown[]), null] }
      : withNull;
  }
  return { anyOf: [schema, { type: 'null' }] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
