/**
 * The newer protocol end to end, from e2e/worker-chat.test.ts: a worker sending the 102-slot
 * request form (the model selector inside the request) gets the emulator's newer reply form (high
 * fields in sparse trailing objects, the model echoed as a list, BardErrorInfo keyed by number)
 * and reads all of it without counting drift.
 */
import { expect, it } from 'vitest';
import { deltasOf, type ChatTarget } from './chat.ts';

/** Defines the cases; `t()` is a worker with GEMINI_REQUEST_FORM=102 and the emulator behind it. */
export function newerFormCases(t: () => ChatTarget): void {
  const generation = (prompt: string) =>
    t()
      .emulator.records()
      .find((r) => r.kind === 'generate' && r.prompt === prompt);
  const drift = async () =>
    (
      (await fetch(`${t().worker.url}/health`).then((r) => r.json())) as {
        protocol_drift: { total: number };
      }
    ).protocol_drift.total;

  it('streams thoughts and text, saves a generated image, and continues the chat', async () => {
    const { worker } = t();
    const stream = await worker.openai().chat.completions.create({
      model: 'gemini-3-flash-thinking',
      messages: [{ role: 'user', content: 'newer form: draw a lighthouse' }],
      stream: true,
    });
    const { reasoning, content } = await deltasOf(stream);
    expect(reasoning).toContain('lighthouse');
    expect(content).toContain('newer form: draw a lighthouse');
    const link = /\]\((http:\/\/[^)]+\/images\/[^)]+)\)/.exec(content)?.[1];
    expect((await fetch(link!)).status).toBe(200);
    expect(generation('newer form: draw a lighthouse')).toMatchObject({
      requestSlots: 102,
      modelNumber: 1,
    });

    const second = await worker.openai().chat.completions.create({
      model: 'gemini-2.5-pro',
      messages: [
        { role: 'user', content: 'newer form: draw a lighthouse' },
        { role: 'assistant', content },
        { role: 'user', content: 'newer form: second turn' },
      ],
    });
    expect(second.choices[0]?.message.content).toMatch(/turn 2/i);
    const next = generation('newer form: second turn');
    expect(next?.cid).toMatch(/^c_/);
    expect(next).toMatchObject({ requestSlots: 102, modelNumber: 3 });
    expect(await drift()).toBe(0);
  });

  it('reads a keyed BardErrorInfo code: 1052 is a 400 naming the model', async () => {
    const { worker, emulator, email } = t();
    emulator.injectFault(email, 'model_invalid');
    const res = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'newer form: a stale model' }],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string | null } };
    expect(body.error).toMatchObject({ code: 'model_not_supported', param: 'model' });
    expect(generation('newer form: a stale model')?.requestSlots).toBe(102);
    expect(await drift()).toBe(0);
  });
}
