/**
 * Answers to prompts that carry the API's tool block or output-format block, written the way
 * a real model writes them in that protocol (docs/tool-calling.md), deterministically. Written
 * independently of src/api/core, so a parser that drifts from the protocol fails its tests.
 *
 * Directives, one per line in the latest user message:
 *   call <tool> <json arguments>        one call (several lines: several calls at once)
 *   tool-mode: <mode>[, <mode>…]        escaped | escaped-all | text-after | no-text |
 *                                       bad-json | trailing-comma | no-close | long-fence |
 *                                       json-fence (```json instead of ```tool-call) | ignore
 *   json <value>                        the structured-output answer's value
 *   json-mode: <mode>                   bad | prose | bare
 * A tool prompt without a `call` line is answered in prose (no tool needed). When the prompt
 * ends with tool results, the answer sums them up (or, with an output format, is the JSON).
 * With both blocks, `call` lines win over the JSON until the results are in. A re-ask (the API's follow-up after an
 * ignored choice or a broken call) is answered correctly from the last directives seen in the
 * chat: `ignore`, `bad-json` and `json-mode: bad` apply to the first attempt only.
 */
import { sampleFromSchema } from './schema-sample.ts';

const TOOLS_BEGIN = '=== TOOLS ===';
const TOOLS_END = '=== END OF TOOLS ===';
const FORMAT_BEGIN = '=== OUTPUT FORMAT ===';
const FORMAT_END = '=== END OF OUTPUT FORMAT ===';
const REASK_MARKERS = ['Your previous answer did not call', 'could not be used'];
const RESULT_LABEL =
  /^\[Tool (?:result|error): ([^\]\s]+) \(([^)]*)\)\]:\n(`{3,})tool-result\n([\s\S]*?)\n\3$/gm;
const FIRST_TRY_ONLY = new Set(['ignore', 'bad-json', 'trailing-comma', 'bad']);

interface Directives {
  calls: { name: string; args: string }[];
  toolModes: Set<string>;
  json: string | null;
  jsonModes: Set<string>;
}

/** The answer text for a protocol prompt, or null when the prompt has no protocol block. */
export function planProtocolAnswer(
  prompt: string,
  earlierPrompts: readonly string[],
): string | null {
  const hasTools = prompt.includes(TOOLS_BEGIN);
  const format = between(prompt, FORMAT_BEGIN, FORMAT_END);
  if (!hasTools && format === null) {
    return null;
  }
  const input = withoutBlocks(prompt);
  const latest = latestUserText(input);
  const results = [...input.slice(input.lastIndexOf('[User]:') + 1).matchAll(RESULT_LABEL)];
  const reask = REASK_MARKERS.some((m) => input.includes(m));
  // A re-ask, or a turn of tool results, answers the directives of the turn that asked.
  const lookBack = reask || results.length > 0;
  const source = lookBack ? lastDirectiveText([...earlierPrompts, prompt]) : latest;
  const directives = readDirectives(source, reask);
  const calling = hasTools && results.length === 0 && directives.calls.length > 0;
  if (format !== null && !calling) {
    return structuredAnswer(format, directives);
  }
  return results.length > 0 ? summarizeResults(results) : toolAnswer(directives, latest);
}

function toolAnswer(d: Directives, latest: string): string {
  if (d.calls.length === 0 || d.toolModes.has('ignore')) {
    return `I can answer that directly: ${firstLine(latest)}`;
  }
  const fence = d.toolModes.has('long-fence') ? '````' : '```';
  const blocks = d.calls.map((call, i) => {
    let json = `{"name": "${call.name}", "arguments": ${call.args}}`;
    if (i === 0 && d.toolModes.has('bad-json')) {
      json = json.slice(0, -2);
    } else if (i === 0 && d.toolModes.has('trailing-comma')) {
      json = `{"name": "${call.name}", "arguments": ${call.args},}`;
    }
    const close = d.toolModes.has('no-close') && i === d.calls.length - 1 ? '' : `\n${fence}`;
    const info = d.toolModes.has('json-fence') ? 'json' : 'tool-call';
    return `${fence}${info}\n${json}${close}`;
  });
  const parts = [
    ...(d.toolModes.has('no-text') ? [] : ['I will use the tools for this.']),
    blocks.join('\n'),
    ...(d.toolModes.has('text-after') ? ['The results will follow.'] : []),
  ];
  const answer = parts.join('\n\n');
  if (d.toolModes.has('escaped-all')) {
    return answer.replace(/[\\`*_[\]"]/g, '\\$&');
  }
  return d.toolModes.has('escaped') ? answer.replace(/[`*_[\]]/g, '\\$&') : answer;
}

function structuredAnswer(format: string, d: Directives): string {
  let json = d.json ?? JSON.stringify(sampleFromSchema(schemaOf(format)));
  if (d.jsonModes.has('bad')) {
    json = `${json.slice(0, -1)},`;
  }
  if (d.jsonModes.has('bare')) {
    return json;
  }
  const block = `\`\`\`json\n${json}\n\`\`\``;
  return d.jsonModes.has('prose')
    ? `Here is the JSON you asked for:\n\n${block}\n\nAnything else?`
    : block;
}

function summarizeResults(results: RegExpMatchArray[]): string {
  const lines = results.map(
    (m) => `- ${m[1] ?? 'tool'}: ${(m[4] ?? '').replace(/\s+/g, ' ').trim()}`,
  );
  return `Here is what the tools returned:\n${lines.join('\n')}`;
}

function readDirectives(text: string, reask: boolean): Directives {
  const d: Directives = { calls: [], toolModes: new Set(), json: null, jsonModes: new Set() };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const call = /^call\s+([\w.-]+)\s*(.*)$/i.exec(line);
    const modes = /^(tool|json)-mode:\s*(.+)$/i.exec(line);
    const json = /^json\s+(.+)$/i.exec(line);
    if (call) {
      d.calls.push({ name: call[1] ?? '', args: (call[2] ?? '').trim() || '{}' });
    } else if (modes) {
      const target = modes[1]?.toLowerCase() === 'tool' ? d.toolModes : d.jsonModes;
      for (const mode of (modes[2] ?? '').split(',').map((m) => m.trim().toLowerCase())) {
        if (!(reask && FIRST_TRY_ONLY.has(mode))) {
          target.add(mode);
        }
      }
    } else if (json) {
      d.json = json[1] ?? null;
    }
  }
  return d;
}

/** The text of the latest user message: after the last `[User]:` label, or all of it. */
function latestUserText(input: string): string {
  const at = input.lastIndexOf('[User]:');
  return (at < 0 ? input : input.slice(at + '[User]:'.length)).trim();
}

function lastDirectiveText(prompts: readonly string[]): string {
  for (let i = prompts.length - 1; i >= 0; i -= 1) {
    const text = latestUserText(withoutBlocks(prompts[i] ?? ''));
    if (/^(call\s|json\s|json-mode:)/im.test(text)) {
      return text;
    }
  }
  return '';
}

function withoutBlocks(prompt: string): string {
  let out = prompt;
  for (const [begin, end] of [
    [TOOLS_BEGIN, TOOLS_END],
    [FORMAT_BEGIN, FORMAT_END],
  ] as const) {
    const inner = between(out, begin, end);
    if (inner !== null) {
      out = out.replace(`${begin}${inner}${end}`, '');
    }
  }
  return out;
}

function between(text: string, begin: string, end: string): string | null {
  const start = text.indexOf(begin);
  const stop = start < 0 ? -1 : text.indexOf(end, start);
  return stop < 0 ? null : text.slice(start + begin.length, stop);
}

function schemaOf(format: string): unknown {
  const fence = /(`{3,})json\n([\s\S]*?)\n\1/.exec(format);
  try {
    return fence ? (JSON.parse(fence[2] ?? '') as unknown) : { type: 'object' };
  } catch {
    return { type: 'object' };
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? ''
  );
}
