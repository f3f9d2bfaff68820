/**
 * The Anthropic Messages API through the official @anthropic-ai/sdk, unmodified but for its
 * base URL, against a worker and against the gateway (filled in by the issue-14 work).
 */
import type { DialectTarget } from './target.ts';

/**
 * Registers the Anthropic cases, in a `describe('anthropic via <name>')`, for `target()` (read lazily,
 * inside the tests: the stack starts in beforeAll).
 */
export function anthropicCases(name: string, target: () => DialectTarget): void {
  void name;
  void target;
}
