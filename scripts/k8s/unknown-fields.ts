/**
 * @module unknown-fields
 * What kubeconform's -strict adds and kubernetes-models' validators lack: a field the API does not
 * know (`readinesProbe`, `volumeClaimTemplate`) is an error, not silently dropped by the server.
 * The field names come from kubernetes-models' type declarations (one .d.ts per API type,
 * generated from the Kubernetes OpenAPI document): each declares its properties and imports the
 * types of its nested objects, which is all a walk over an object needs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap } from './strategic-merge.ts';

/** The fields of one API type, by name: a type declared in another file, one declared inline, or a leaf (null). */
type Fields = ReadonlyMap<string, FieldType>;
type FieldType = { readonly file: string } | { readonly inline: Fields } | null;

const cache = new Map<string, Fields | null>();
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Unknown fields in `o`, a Kubernetes object of that apiVersion and kind (one line each). */
export function unknownFields(
  o: Record<string, unknown>,
  apiVersion: string,
  kind: string,
): string[] {
  const root = resolveModule(`kubernetes-models/${apiVersion}/${kind}`, REPO_ROOT);
  if (!root || !fs.existsSync(root)) {
    return [`no type declarations for ${apiVersion} ${kind}`];
  }
  return walk(o, root, '');
}

function walk(value: unknown, type: string | Fields, where: string): string[] {
  const fields = typeof type === 'string' ? fieldsOf(type) : type;
  if (!fields) {
    return [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => walk(item, fields, `${where}[${i}]`));
  }
  if (!isMap(value)) {
    return [];
  }
  return Object.entries(value).flatMap(([key, child]) => {
    const at = `${where}/${key}`;
    if (!fields.has(key)) {
      return [`${at}: unknown field "${key}"`];
    }
    const childType = fields.get(key);
    if (!childType) {
      return [];
    }
    return walk(child, 'file' in childType ? childType.file : childType.inline, at);
  });
}

/** The properties of the first interface in a .d.ts file; null when it declares none (an alias). */
function fieldsOf(file: string): Fields | null {
  if (cache.has(file)) {
    return cache.get(file) ?? null;
  }
  if (!fs.existsSync(file)) {
    // A layout this walk does not know must fail loudly, not pass every field unchecked.
    throw new Error(`unknown-fields: no type declarations at ${file} (kubernetes-models layout?)`);
  }
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^export interface \w+[^{]*\{$/.test(l));
  let fields: Fields | null = null;
  if (start >= 0) {
    const imports = new Map(
      [...text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)].map(
        ([, name, from]) => [name, from] as const,
      ),
    );
    const resolveType = (name: string): FieldType => {
      const from = imports.get(name);
      const resolved = from ? resolveModule(from, path.dirname(file)) : null;
      return resolved ? { file: resolved } : null;
    };
    fields = parseBlock(lines, start + 1, 4, resolveType).fields;
  }
  cache.set(file, fields);
  return fields;
}

/**
 * The properties declared at `indent` from line `from` to the brace that closes the block:
 * `"name"?: Type;` on one line, or an inline object (`{` / `Array<{` … closed at the same indent),
 * which is parsed in turn unless it is a map (`[key: string]: …`).
 */
function parseBlock(
  lines: readonly string[],
  from: number,
  indent: number,
  resolveType: (name: string) => FieldType,
): { fields: Fields | null; next: number } {
  const pad = ' '.repeat(indent);
  const fields = new Map<string, FieldType>();
  let isMapType = false;
  let i = from;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith(`${pad.slice(4)}}`)) {
      break;
    }
    if (line.startsWith(`${pad}[key: string]`)) {
      isMapType = true;
    }
    const prop = line.startsWith(pad) ? /^"([^"]+)"\??: (.*)$/.exec(line.slice(indent)) : null;
    if (!prop) {
      continue;
    }
    const [, name = '', type = ''] = prop;
    if (type.endsWith('{')) {
      const inner = parseBlock(lines, i + 1, indent + 4, resolveType);
      fields.set(name, inner.fields ? { inline: inner.fields } : null);
      i = inner.next;
    } else {
      const ref = /^(?:Array<)?(I\w+)>?;$/.exec(type)?.[1];
      fields.set(name, ref ? resolveType(ref) : null);
    }
  }
  return { fields: isMapType ? null : fields, next: i };
}

/**
 * A module specifier of these packages → its .d.ts file, by their layout rather than the exports
 * map (which names the .js, not the .d.ts). kubernetes-models 4 imports siblings without an
 * extension (`./ServicePort`), 5 with `.js`; both end up at `ServicePort.d.ts`.
 */
function resolveModule(specifier: string, fromDir: string): string | null {
  if (specifier.startsWith('.')) {
    return path.resolve(fromDir, `${specifier.replace(/\.js$/, '')}.d.ts`);
  }
  const parts = specifier.split('/');
  const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
  const subpath = parts.slice(specifier.startsWith('@') ? 2 : 1).join('/');
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', packageName);
    if (fs.existsSync(path.join(candidate, 'package.json'))) {
      return path.join(candidate, `${subpath}.d.ts`);
    }
    if (path.dirname(dir) === dir) {
      return null;
    }
  }
}
