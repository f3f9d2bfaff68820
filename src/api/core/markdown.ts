/**
 * What Gemini web does to text, undone: it returns Markdown as its UI renders it, so outside
 * code fences brackets, underscores, backticks and the like arrive backslash-escaped
 * (CommonMark escapes), HTML entities appear, and line ends may be CRLF.
 */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};
const ENTITY = /&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi;
// CommonMark: any ASCII punctuation may be backslash-escaped.
const MARKDOWN_ESCAPE = /\\([!-/:-@[-`{-~])/g;
// Inside JSON, \" \\ and \/ are JSON's own escapes; the rest of ASCII punctuation is Markdown's.
const MARKDOWN_ESCAPE_IN_JSON = /\\(\\|[!#-.:-@[\]^_`{-~])/g;

/** Decodes HTML character references (named ones Gemini uses, decimal and hex). */
export function decodeEntities(text: string): string {
  return text.replace(ENTITY, (whole, body: string) => {
    if (body.startsWith('#')) {
      const hex = body[1] === 'x' || body[1] === 'X';
      const code = Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** Removes CommonMark backslash escapes (`\[` -> `[`). */
export function unescapeMarkdown(text: string): string {
  return text.replace(MARKDOWN_ESCAPE, '$1');
}

/**
 * Removes Markdown escapes from JSON text without breaking JSON's own: `\"`, `\\` and `\/` stay,
 * so a string value holding a quote survives.
 */
export function unescapeMarkdownInJson(text: string): string {
  return text.replace(MARKDOWN_ESCAPE_IN_JSON, (whole, ch: string) => (ch === '\\' ? whole : ch));
}

/** The plain form of Gemini's text for matching: entities decoded, unescaped, NFC, LF line ends. */
export function normalizeAnswer(text: string): string {
  return unescapeMarkdown(decodeEntities(text.replace(/\r\n?/g, '\n'))).normalize('NFC');
}

/** The longest run of `ch` in text (0 when absent). */
export function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** A fenced code block whose fence is longer than any backtick run inside, so nothing closes it. */
export function fenced(content: string, info = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(content, '`') + 1));
  return `${fence}${info}\n${content}\n${fence}`;
}
