/**
 * The turn runner with a scripted backend (the queue's interface, fed canned answers): live
 * streaming, the one re-ask in the same chat, holding back while a re-ask may follow, the
 * error after a failed re-ask, and a cut after some text.
 */
import { describe, expect, it } from 'vitest';
import type { ChatJob } from '../../../src/api/backend.ts';
import type { ConversationPlan } from '../../../src/api/conversation-plan.ts';
import { DEFAULT_TURN, type ChatTurn } from '../../../src/api/core/index.ts';
import { runTurn, type VisibleEvent } from '../../../src/api/turn-runner.ts';
import { UpstreamOutcomeUnknownError, type AppError } from '../../../src/errors.ts';
import { findModel, type GenerateEvent } from '../../../src/gemini/index.ts';
import { createLogger } from '../../../src/logging.ts';

const TOOL = {
  name: 'get_weather',
  description: '',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const call = (args: string) =>
  `\`\`\`tool-call\n{"name":"get_weather","arguments":${args}}\n\`\`\``;

/** A backend answering each send with the next text, in two-character deltas. */
function scripted(answers: (string | Error)[]) {
  const jobs: ChatJob[] = [];
  const backend = {
    async *stream(job: ChatJob): AsyncIterable<GenerateEvent> {
      jobs.push(job);
      const answer = answers.shift() ?? '';
      const text = answer instanceof Error ? 'partial answer' : answer;
      for (let i = 0; i < text.length; i += 2) {
        yield { type: 'text', delta: text.slice(i, i + 2) };
      }
      if (answer instanceof Error) {
        throw answer;
      }
      const chat = { cid: 'c_1', rid: `r_${jobs.length}`, rcid: `rc_${jobs.length}` };
      yield { type: 'done', result: { text, thoughts: '', images: [], chat, modelName: null } };
    },
  };
  return { backend, jobs };
}

async function run(turn: Partial<ChatTurn>, answers: (string | Error)[], partialOnCut = false) {
  const { backend, jobs } = scripted(answers);
  const seen: VisibleEvent[] = [];
  const cp = { prompt: 'p', chat: null, replayPrompt: null } as unknown as ConversationPlan;
  const result = await runTurn(
    { backend, logger: createLogger({ silent: true }) },
    {
      turn: { ...DEFAULT_TURN, messages: [], ...turn },
      model: findModel('gemini-2.5-flash')!,
      cp,
      inputs: [],
      requestId: 'r',
      signal: new AbortController().signal,
      startedAt: 0,
      partialOnCut,
    },
    { answer: (e) => void seen.push(e), thought: () => undefined },
  ).catch((err: unknown) => err as AppError);
  return { result, seen, jobs };
}

describe('runTurn', () => {
  it('sends once and streams text and calls live', async () => {
    const { result, seen, jobs } = await run({ tools: [TOOL] }, [
      `Sure.\n\n${call('{"city":"Oslo"}')}`,
    ]);
    expect(jobs).toHaveLength(1);
    expect(seen[0]).toEqual({ type: 'text', text: expect.any(String) as unknown });
    expect(seen.filter((e) => e.type === 'call_start')).toHaveLength(1);
    expect('summary' in result && result.summary.reason).toBe('tool_calls');
  });

  it('re-asks a broken call once in the chat the first answer returned, without repeating text', async () => {
    const { result, seen, jobs } = await run({ tools: [TOOL] }, [
      `Sure.\n\n${call('{"city":')}`,
      `Sure.\n\n${call('{"city":"Oslo"}')}`,
    ]);
    expect(jobs).toHaveLength(2);
    expect(jobs[1]?.chat).toEqual({ cid: 'c_1', rid: 'r_1', rcid: 'rc_1' });
    expect(jobs[1]?.replayPrompt).toBeNull();
    expect(jobs[1]?.prompt).toContain('could not be used');
    const text = seen.map((e) => (e.type === 'text' ? e.text : '')).join('');
    expect(text.match(/Sure\./g)).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'call_start').map((e) => e.index)).toEqual([0]);
    expect('sends' in result && result.sends).toBe(2);
  });

  it('gives the same call in two turns two ids, each shown as the summary holds it', async () => {
    const answer = `Sure.\n\n${call('{"city":"Oslo"}')}`;
    const turns = [await run({ tools: [TOOL] }, [answer]), await run({ tools: [TOOL] }, [answer])];
    const ids = turns.map(({ result, seen }) => {
      const summary = 'summary' in result ? result.summary.calls.map((c) => c.id) : [];
      expect(seen.flatMap((e) => (e.type === 'call_end' ? [e.call.id] : []))).toEqual(summary);
      expect(seen.flatMap((e) => (e.type === 'call_start' ? [e.id] : []))).toEqual(summary);
      return summary;
    });
    expect(ids[0]).toHaveLength(1);
    expect(ids[1]).not.toEqual(ids[0]);
  });

  it('gives the new call of a re-ask an id of its own beside the call of the first answer', async () => {
    const { result, seen } = await run({ tools: [TOOL] }, [
      `${call('{"city":"Oslo"}')}\n${call('{"city":')}`,
      `${call('{"city":"Oslo"}')}\n${call('{"city":"Rome"}')}`,
    ]);
    const calls = 'summary' in result ? result.summary.calls : [];
    expect(calls.map((c) => c.arguments)).toEqual(['{"city":"Oslo"}', '{"city":"Rome"}']);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(seen.flatMap((e) => (e.type === 'call_end' ? [e.call.id] : []))).toEqual(
      calls.map((c) => c.id),
    );
  });

  it('holds back a required choice until it is met, and fails after the one re-ask', async () => {
    const held = await run({ tools: [TOOL], toolChoice: { type: 'required' } }, [
      'No tool needed.',
      call('{"city":"Rome"}'),
    ]);
    expect(held.seen.some((e) => e.type === 'text' && e.text.includes('No tool'))).toBe(false);
    expect(held.seen.filter((e) => e.type === 'call_end')).toHaveLength(1);
    const failed = await run({ tools: [TOOL], toolChoice: { type: 'required' } }, [
      'No.',
      'Still no.',
      'x',
    ]);
    expect(failed.jobs).toHaveLength(2);
    expect(failed.seen).toEqual([]);
    expect(failed.result).toMatchObject({
      status: 502,
      code: 'tool_choice_unmet',
      upstreamSent: true,
    });
  });

  it('sends the validated JSON itself for a JSON format', async () => {
    const { result, seen } = await run({ responseFormat: { type: 'json_object' } }, [
      'Here:\n```json\n{"a": 1,}\n```',
    ]);
    expect(seen).toEqual([{ type: 'text', text: '{"a":1}' }]);
    expect('summary' in result && result.summary.text).toBe('{"a":1}');
  });

  it('returns the text so far as length after a cut, only when asked to', async () => {
    const cut = new UpstreamOutcomeUnknownError('stalled');
    const partial = await run({}, [cut], true);
    expect('summary' in partial.result && partial.result.summary).toMatchObject({
      text: 'partial answer',
      reason: 'length',
    });
    const thrown = await run({}, [cut], false);
    expect(thrown.result).toBe(cut);
  });
});
