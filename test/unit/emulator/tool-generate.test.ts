/**
 * The emulator's protocol answers over real StreamGenerate: the cumulative snapshots it streams,
 * turned into deltas, go through the core's streamed pipeline and give the same calls as the
 * final text; a re-ask in the same chat is answered from the first prompt's directives.
 */
import { describe, expect, it } from 'vitest';
import {
  AnswerStream,
  choiceReaskPrompt,
  DEFAULT_TURN,
  finishAnswer,
  renderPrompt,
  summarize,
  type ChatTurn,
} from '../../../src/api/core/index.ts';
import { AUTO, RUN_CODE, WEATHER } from '../api/core/fixtures.ts';
import {
  generateForm,
  payloads,
  readFrames,
  signedIn,
  useTestEmulator,
  type SignedIn,
} from './support.ts';

const t = useTestEmulator();

interface Reply {
  snapshots: string[];
  chat: { cid: string; rid: string; rcid: string; ctx: string };
}

async function ask(s: SignedIn, prompt: string, chat: Reply['chat'] | null = null): Promise<Reply> {
  const res = await s.generate(generateForm(s.at, prompt, chat));
  const inners = payloads(readFrames(await res.text()).frames);
  const snapshots = inners
    .map((inner) => ((inner[4] as unknown[][] | undefined)?.[0]?.[1] as string[] | undefined)?.[0])
    .filter((text): text is string => typeof text === 'string');
  const last = inners.at(-1) ?? [];
  const [cid, rid] = last[1] as [string, string];
  const rcid = (last[4] as unknown[][])[0]?.[0] as string;
  return { snapshots, chat: { cid, rid, rcid, ctx: last[25] as string } };
}

function streamed(snapshots: readonly string[], turn: ChatTurn) {
  const stream = new AnswerStream({ ...turn, stop: [], maxTokens: null });
  let previous = '';
  const events = snapshots.flatMap((snapshot) => {
    const delta = snapshot.slice(previous.length);
    previous = snapshot;
    return stream.push(delta);
  });
  return summarize([...events, ...stream.end()]);
}

const toolTurn = (text: string, extra: Partial<ChatTurn> = {}): ChatTurn => ({
  ...DEFAULT_TURN,
  tools: [WEATHER, RUN_CODE],
  messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  ...extra,
});

describe('emulator protocol answers over StreamGenerate', () => {
  it('streams two calls whose deltas parse like the final text', async () => {
    const s = await signedIn(t, 'tools@example.com');
    const turn = toolTurn(
      'call get_weather {"city":"Zürich 🌍"}\ncall run_code {"code":"```sh\\necho `x`\\n```"}\ntool-mode: escaped',
    );
    const reply = await ask(s, renderPrompt(turn, { continued: false }).text);
    expect(reply.snapshots.length).toBeGreaterThanOrEqual(4);
    const final = reply.snapshots.at(-1) ?? '';
    const whole = finishAnswer(final, { ...turn, stop: [], maxTokens: null });
    expect(whole.reason).toBe('tool_calls');
    expect(whole.calls.map((c) => JSON.parse(c.arguments) as unknown)).toEqual([
      { city: 'Zürich 🌍' },
      { code: '```sh\necho `x`\n```' },
    ]);
    expect(streamed(reply.snapshots, turn)).toEqual(whole);
  });

  it('answers a re-ask in the same chat from the first prompt', async () => {
    const s = await signedIn(t, 'reask@example.com');
    const turn = toolTurn('call get_weather {"city":"Rome"}\ntool-mode: ignore', {
      toolChoice: { type: 'required' },
    });
    const first = await ask(s, renderPrompt(turn, { continued: false }).text);
    expect(
      finishAnswer(first.snapshots.at(-1) ?? '', { ...AUTO, stop: [], maxTokens: null }).calls,
    ).toEqual([]);
    const reask = choiceReaskPrompt(turn.tools, turn.toolChoice, true);
    const second = await ask(s, reask, first.chat);
    const calls = finishAnswer(second.snapshots.at(-1) ?? '', {
      ...AUTO,
      stop: [],
      maxTokens: null,
    }).calls;
    expect(calls.map((c) => c.arguments)).toEqual(['{"city":"Rome"}']);
  });

  it('answers scripted texts verbatim, per account then for any account, until cleared', async () => {
    const s = await signedIn(t, 'script@example.com');
    const captured =
      'Sure\\! Checking.\n\n\\`\\`\\`tool-call\n{"name":"get\\_weather","arguments":{"city":"Paris"}}\n\\`\\`\\`';
    const control = (method: string, body?: unknown) =>
      t.fetch('https://127.0.0.1/__emulator/answers', {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await control('POST', { email: 'SCRIPT@example.com', texts: [captured] })).status).toBe(
      200,
    );
    expect((await control('POST', { texts: ['for anyone'] })).status).toBe(200);
    expect((await control('POST', { texts: [] })).status).toBe(400);
    const first = (await ask(s, 'anything')).snapshots.at(-1) ?? '';
    expect(first).toBe(captured);
    const summary = finishAnswer(first, { ...AUTO, stop: [], maxTokens: null });
    expect(summary.text).toBe('Sure\\! Checking.');
    expect(summary.calls.map((c) => c.arguments)).toEqual(['{"city":"Paris"}']);
    expect((await ask(s, 'next')).snapshots.at(-1)).toBe('for anyone');
    await control('POST', { texts: ['dropped'] });
    expect((await control('DELETE')).status).toBe(200);
    expect((await ask(s, 'plain')).snapshots.at(-1)).toMatch(/^Echo \(turn 1\): plain/);
  });
});
