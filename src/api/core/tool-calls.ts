/**
 * Answer text -> prose and tool calls, streamed or whole. One incremental parser serves both, so
 * the final parse is the streamed one fed a single chunk: any chunking gives the same calls.
 *
 * A ```json block that holds a call to a declared tool counts as a call block too (a model
 * that ignored the info string); other ```json blocks stay prose.
 * Each call block is decided when it closes: calls to tools that were not exposed are dropped;
 * arguments are coerced toward the tool's schema and validated; a call that fails is reported
 * as a problem (the caller re-asks once with `repairPrompt`), never emitted. A call's start,
 * arguments and end are emitted together, once it is known to be valid.
 */
import { createHash } from 'node:crypto';
import { CallScanner, type ScanSegment } from './call-scanner.ts';
import { decodeCallBody, type RawCall } from './call-decode.ts';
import { unescapeMarkdown } from './markdown.ts';
import { compileOnUse, type SchemaChecker } from './schema.ts';
import { toolsForChoice } from './tool-prompt.ts';
import type { ChatTurn, ToolCall } from './types.ts';

/** A call that was left out on purpose. */
export interface DroppedCall {
  readonly name: string;
  readonly reason: 'undeclared' | 'not_parallel';
}

/** A call that needs the model to try again, with the reasons. */
export interface CallProblem {
  /** The call's name when it could be read. */
  readonly name: string | null;
  readonly errors: readonly string[];
}

/** What the tool parser emits, in order. */
export type ToolStreamEvent =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'call_start';
      readonly index: number;
      readonly id: string;
      readonly name: string;
    }
  | { readonly type: 'call_arguments'; readonly index: number; readonly delta: string }
  | { readonly type: 'call_end'; readonly index: number; readonly call: ToolCall }
  | { readonly type: 'call_dropped'; readonly dropped: DroppedCall }
  | { readonly type: 'call_invalid'; readonly problem: CallProblem };

/** A whole answer, parsed. `problems` non-empty means "repair needed". */
export interface ParsedAnswer {
  readonly text: string;
  readonly calls: readonly ToolCall[];
  readonly dropped: readonly DroppedCall[];
  readonly problems: readonly CallProblem[];
}

/**
 * What the parser needs from the turn. `firstCallIndex` continues the numbering of an answer
 * that already streamed calls (the re-ask's answer, in the same client stream). `callSeed` makes
 * the ids this answer's own: the same call in a later answer gets another id (clients match
 * results to calls by id), while every parse of one answer, streamed or whole, gives the same.
 */
export type ToolParseOptions = Pick<ChatTurn, 'tools' | 'toolChoice' | 'parallelToolCalls'> & {
  readonly firstCallIndex?: number;
  readonly callSeed?: string;
};

/** The incremental parser: `push` each text delta, then `end` once. */
export interface ToolCallParser {
  push(delta: string): ToolStreamEvent[];
  end(): ToolStreamEvent[];
}

/** Creates a parser for one answer. Throws InvalidRequestError for a tool schema that is none. */
export function createToolCallParser(options: ToolParseOptions): ToolCallParser {
  const checkers = new Map<string, SchemaChecker>();
  toolsForChoice(options.tools, options.toolChoice).forEach((tool, i) => {
    checkers.set(tool.name, compileOnUse(tool.parameters, `tools[${i}].parameters`));
  });
  const scanner = new CallScanner((body) => isDeclaredCall(body, checkers));
  const first = options.firstCallIndex ?? 0;
  let calls = first;
  const decide = (written: RawCall): ToolStreamEvent[] => {
    const raw = withDeclaredName(written, checkers);
    if (raw.name !== null && !checkers.has(raw.name)) {
      return [{ type: 'call_dropped', dropped: { name: raw.name, reason: 'undeclared' } }];
    }
    if (calls > first && !options.parallelToolCalls) {
      return raw.name === null
        ? []
        : [{ type: 'call_dropped', dropped: { name: raw.name, reason: 'not_parallel' } }];
    }
    if (!raw.ok) {
      return [{ type: 'call_invalid', problem: { name: raw.name, errors: [raw.error] } }];
    }
    const check = checkers.get(raw.name)?.(raw.args);
    if (!check?.ok) {
      return [{ type: 'call_invalid', problem: { name: raw.name, errors: check?.errors ?? [] } }];
    }
    const index = calls;
    calls += 1;
    return callEvents(index, raw.name, check.value, options.callSeed ?? '');
  };
  const translate = (segments: ScanSegment[]): ToolStreamEvent[] =>
    segments.flatMap((s) =>
      s.kind === 'text' ? [{ type: 'text', text: s.text }] : decodeCallBody(s.body).flatMap(decide),
    );
  return {
    push: (delta) => translate(scanner.push(delta)),
    end: () => translate(scanner.end()),
  };
}

/** Parses a whole answer. */
export function parseToolCalls(text: string, options: ToolParseOptions): ParsedAnswer {
  const parser = createToolCallParser(options);
  return collectToolEvents([...parser.push(text), ...parser.end()]);
}

/** Folds parser events into the whole-answer result (what a non-streamed reply needs). */
export function collectToolEvents(events: readonly ToolStreamEvent[]): ParsedAnswer {
  let text = '';
  const calls: ToolCall[] = [];
  const dropped: DroppedCall[] = [];
  const problems: CallProblem[] = [];
  for (const event of events) {
    if (event.type === 'text') {
      text += event.text;
    } else if (event.type === 'call_end') {
      calls.push(event.call);
    } else if (event.type === 'call_dropped') {
      dropped.push(event.dropped);
    } else if (event.type === 'call_invalid') {
      problems.push(event.problem);
    }
  }
  return { text, calls, dropped, problems };
}

/** The deterministic id of a call: a hash of its answer's seed, name, arguments and index. */
export function callId(name: string, args: string, index: number, seed = ''): string {
  const digest = createHash('sha256').update(`${seed}\n${name}\n${args}\n${index}`).digest('hex');
  return `call_${digest.slice(0, 24)}`;
}

/**
 * Whether a ```json block is really a call: every item names a declared tool, has arguments
 * and reads cleanly. Anything else stays prose.
 */
function isDeclaredCall(body: string, declared: ReadonlyMap<string, unknown>): boolean {
  if (!/"(?:arguments|parameters)"\s*:/.test(unescapeMarkdown(body))) {
    return false;
  }
  const raws = decodeCallBody(body);
  return raws.every((r) => r.ok && declared.has(withDeclaredName(r, declared).name ?? ''));
}

/** Models trained on OpenAI's format sometimes write `functions.get_weather`. */
function withDeclaredName(raw: RawCall, declared: ReadonlyMap<string, unknown>): RawCall {
  const bare = raw.name?.replace(/^functions\./, '') ?? null;
  return bare !== null && bare !== raw.name && declared.has(bare) ? { ...raw, name: bare } : raw;
}

function callEvents(index: number, name: string, value: unknown, seed: string): ToolStreamEvent[] {
  const args = JSON.stringify(value);
  const call: ToolCall = { id: callId(name, args, index, seed), name, arguments: args };
  return [
    { type: 'call_start', index, id: call.id, name },
    { type: 'call_arguments', index, delta: args },
    { type: 'call_end', index, call },
  ];
}
