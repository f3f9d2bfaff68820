/**
 * Conversation routing through the gateway in front of real workers, from e2e/gateway.test.ts:
 * a regenerate or an edit continues from the turn its history matches (OpenAI, Anthropic and
 * Gemini clients), on the node holding the chat; an upload and the chats (or Responses requests)
 * naming its file go to the node holding the file.
 */
import { expect, it } from 'vitest';
import type { GatewayStack } from '../support/gateway-stack.ts';
import { PNG } from '../support/attack.ts';
import { ask, MODEL, sendsOf } from './stack.ts';

/** Defines the cases; `stack()` is the suite's running stack, `run` tells its prompts apart. */
export function routingCases(stack: () => GatewayStack, run: string): void {
  it('continues a regenerate and an edit from the turn the history matches, on its node', async () => {
    const u1 = { role: 'user' as const, content: `branch ${run} u1` };
    const u2 = { role: 'user' as const, content: `branch ${run} u2` };
    const a1 = { role: 'assistant' as const, content: (await ask(stack(), [u1])).text };
    const second = await ask(stack(), [u1, a1, u2]);
    const a2 = { role: 'assistant' as const, content: second.text };
    const held = (await (await fetch(`${stack().url}/conversations/${second.id}`)).json()) as {
      metadata: [string, string, string];
    };
    const u3 = { role: 'user' as const, content: `branch ${run} u3` };
    await ask(stack(), [u1, a1, u2, a2, u3]);
    const [afterA1] = sendsOf(stack(), u2.content);
    expect(afterA1?.cid).toMatch(/^c_/);
    expect(sendsOf(stack(), u3.content)[0]?.rid).toBe(held.metadata[1]);

    // Regenerate the second answer, after a third turn: it continues after a1 again.
    await ask(stack(), [u1, a1, u2]);
    const regenerated = sendsOf(stack(), u2.content)[1];
    expect(regenerated).toMatchObject({ cid: afterA1?.cid, rid: afterA1?.rid });
    expect(regenerated?.rid).not.toBe(held.metadata[1]);
    // Edit the second question: the same.
    const edited = { role: 'user' as const, content: `branch ${run} u2 edited` };
    await ask(stack(), [u1, a1, edited]);
    expect(sendsOf(stack(), edited.content)[0]).toMatchObject({
      cid: afterA1?.cid,
      rid: afterA1?.rid,
    });
    // Every turn stayed on the account that holds the chat.
    const emails = [u1, u2, u3, edited].flatMap((m) =>
      sendsOf(stack(), m.content).map((r) => r.email),
    );
    expect(new Set(emails).size).toBe(1);
  });

  it('continues an Anthropic and a Gemini regenerate from the turn its history matches, on its node', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${stack().url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const uses = (marker: string) =>
      stack()
        .emulator.records()
        .filter((r) => r.kind === 'generate' && (r.prompt ?? '').includes(marker));
    // Anthropic: [u1] -> a1, [u1, a1, u2] -> a2, then [u1, a1, u2] again continues after a1.
    const claude = (messages: unknown[]) =>
      post('/v1/messages', { model: MODEL, max_tokens: 256, messages });
    const u1 = { role: 'user', content: `claude branch ${run} u1` };
    const a1 = { role: 'assistant', content: (await claude([u1]))['content'] };
    const u2 = { role: 'user', content: `claude branch ${run} u2` };
    await claude([u1, a1, u2]);
    await claude([u1, a1, u2]);
    const [first, again] = uses(u2.content);
    expect(first?.cid).toMatch(/^c_/);
    expect(again).toMatchObject({ cid: first?.cid, rid: first?.rid, email: first?.email });
    expect(uses(u1.content)[0]?.email).toBe(first?.email);
    // Gemini: the same through generateContent.
    const gemini = (contents: unknown[]) =>
      post(`/v1beta/models/${MODEL}:generateContent`, { contents });
    const g1 = { role: 'user', parts: [{ text: `gemini branch ${run} g1` }] };
    const answer = (await gemini([g1]))['candidates'] as { content: unknown }[];
    const g2 = { role: 'user', parts: [{ text: `gemini branch ${run} g2` }] };
    await gemini([g1, answer[0]?.content, g2]);
    await gemini([g1, answer[0]?.content, g2]);
    const [one, two] = uses(`gemini branch ${run} g2`);
    expect(one?.cid).toMatch(/^c_/);
    expect(two).toMatchObject({ cid: one?.cid, rid: one?.rid, email: one?.email });
    expect(uses(`gemini branch ${run} g1`)[0]?.email).toBe(one?.email);
  });

  it('routes an upload and the chats naming its file to the node holding it', async () => {
    const form = new FormData();
    form.append('files', new Blob([`notes ${run}`], { type: 'text/plain' }), 'notes.txt');
    const upload = await fetch(`${stack().url}/upload`, { method: 'POST', body: form });
    expect(upload.status).toBe(200);
    const { files } = (await upload.json()) as { files: string[] };
    expect(files).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      const res = await stack()
        .openai()
        .chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content: `file ${run} ${i}` }],
          // @ts-expect-error: the seed's extension field
          files,
        });
      expect(res.choices[0]?.message.content).toContain('I received 1 file(s)');
    }
    const accounts = [0, 1, 2, 3].map((i) => sendsOf(stack(), `file ${run} ${i}`)[0]?.email);
    expect(new Set(accounts).size).toBe(1);
    expect((await fetch(`${stack().url}/conversations/no-such-id`)).status).toBe(404);
  });

  it('keeps a stateless Responses tool loop, streamed, on the node holding its chat', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        strict: false,
      },
    ];
    // Three nodes: a follow-up placed at random would find its chat's node one time in three.
    for (const round of [1, 2, 3]) {
      const input = `tool-mode: text-after\ncall get_weather {"city": "Tromso ${run} ${round}"}`;
      const stream = stack().openai().responses.stream({ model: MODEL, input, tools });
      const items = (await stream.finalResponse()).output.flatMap((o) =>
        o.type === 'message' || o.type === 'function_call' ? [o] : [],
      );
      const result = `hail ${run} ${round}`;
      const results = items.flatMap((o) =>
        o.type === 'function_call'
          ? [{ type: 'function_call_output' as const, call_id: o.call_id, output: result }]
          : [],
      );
      // No previous_response_id: the client resends its history and the output items.
      await stack()
        .openai()
        .responses.create({
          model: MODEL,
          input: [{ role: 'user', content: input }, ...items, ...results],
          tools,
        });
      const sends = stack()
        .emulator.records()
        .filter((r) => r.kind === 'generate');
      const opened = sends.find((r) => r.prompt?.includes(`Tromso ${run} ${round}`));
      const followed = sends.find((r) => r.prompt?.includes(result));
      expect(followed?.cid).toMatch(/^c_/);
      expect(followed?.email).toBe(opened?.email);
    }
  });

  it('routes a Responses request naming an upload as an image to the node holding it', async () => {
    const form = new FormData();
    form.append('files', new Blob([PNG], { type: 'image/png' }), 'dot.png');
    const upload = await fetch(`${stack().url}/upload`, { method: 'POST', body: form });
    const { files } = (await upload.json()) as { files: string[] };
    for (let i = 0; i < 4; i++) {
      const res = await stack()
        .openai()
        .responses.create({
          model: MODEL,
          input: [
            {
              role: 'user',
              content: [
                { type: 'input_text', text: `image ${run} ${i}` },
                { type: 'input_image', image_url: files[0]!, detail: 'auto' },
              ],
            },
          ],
        });
      expect(res.output_text).toContain('I received 1 file(s)');
    }
    const accounts = [0, 1, 2, 3].map((i) => sendsOf(stack(), `image ${run} ${i}`)[0]?.email);
    expect(new Set(accounts).size).toBe(1);
  });
}
