/**
 * Client model names -> Gemini models. Anthropic clients (Claude Code among them) send claude-*
 * names; a map (ANTHROPIC_MODEL_MAP, parsed by the config) sends each to a Gemini model. Keys
 * are exact names or globs (`*` matches any run of characters, e.g. `claude-*opus*`): an exact
 * key wins, then one of our own model names, then the most specific glob (most literal
 * characters; the first on a tie). Other names pass as they are, so an unknown one is a 404.
 */
import { ModelNotFoundError } from '../../errors.ts';
import { findModel } from '../../gemini/index.ts';
import type { ModelResolver } from './request.ts';

interface Glob {
  readonly pattern: RegExp;
  readonly literalChars: number;
  readonly target: string;
}

/**
 * A resolver over `map`; an unmapped claude-* name is a 404 naming it. Throws at once when a
 * target is not one of our models, so a typo in the map stops the start, not a request.
 */
export function createModelResolver(map: Readonly<Record<string, string>>): ModelResolver {
  const unknown = Object.values(map).filter((target) => findModel(target) === undefined);
  if (unknown.length > 0) {
    throw new Error(`ANTHROPIC_MODEL_MAP names unknown models: ${unknown.join(', ')}`);
  }
  const globs: Glob[] = Object.entries(map)
    .filter(([key]) => key.includes('*'))
    .map(([key, target]) => ({
      pattern: globPattern(key),
      literalChars: key.replaceAll('*', '').length,
      target,
    }))
    // A stable sort: the first of two equally specific globs stays first.
    .sort((a, b) => b.literalChars - a.literalChars);
  return (name) => {
    const exact = map[name];
    if (exact !== undefined) {
      return exact;
    }
    if (findModel(name) !== undefined) {
      return name;
    }
    const glob = globs.find((g) => g.pattern.test(name));
    if (glob !== undefined) {
      return glob.target;
    }
    if (name.startsWith('claude-')) {
      throw new ModelNotFoundError(name);
    }
    return name;
  };
}

function globPattern(glob: string): RegExp {
  const escaped = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 'i');
}
