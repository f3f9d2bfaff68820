/**
 * Google's Gemini API through the official @google/genai SDK, unmodified but for its base URL,
 * against a worker and against the gateway (filled in by the issue-14 work).
 */
import type { DialectTarget } from './target.ts';

/**
 * Registers the Google cases, in a `describe('google via <name>')`, for `target()` (read lazily,
 * inside the tests: the stack starts in beforeAll).
 */
export function googleCases(name: string, target: () => DialectTarget): void {
  void name;
  void target;
}
