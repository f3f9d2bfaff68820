/**
 * Client model names -> Gemini models. Anthropic clients (Claude Code among them) send claude-*
 * names; a map (ANTHROPIC_MODEL_MAP, parsed by the config) sends each to a Gemini model. Keys
 * are exact names or prefixes ending in `*`; the exact name wins, then the longest prefix.
 * Names that are not claude-* are ours and pass as they are.
 */
import { ModelNotFoundError } from '../../errors.ts';
import type { ModelResolver } from './request.ts';

/** A resolver over `map`; an unmapped claude-* name is a 404 naming it. */
export function createModelResolver(map: Readonly<Record<string, string>>): ModelResolver {
  const prefixes = Object.keys(map)
    .filter((key) => key.endsWith('*'))
    .sort((a, b) => b.length - a.length);
  return (name) => {
    const exact = map[name];
    if (exact !== undefined) {
      return exact;
    }
    const prefix = prefixes.find((key) => name.startsWith(key.slice(0, -1)));
    if (prefix !== undefined) {
      return map[prefix] ?? name;
    }
    if (name.startsWith('claude-')) {
      throw new ModelNotFoundError(name);
    }
    return name;
  };
}
