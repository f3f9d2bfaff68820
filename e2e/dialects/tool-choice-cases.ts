/**
 * A tool choice that forces a call with no tool to call (Anthropic's `any`, Google's `ANY` with
 * no functionDeclarations), sent by the official SDKs to the worker and through the gateway: a
 * 400 in the dialect's own shape, and nothing upstream (the emulator sees no generate, the
 * worker's gk_upstream_sends_total does not move), where it used to cost a send, a re-ask and a 502.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, FunctionCallingConfigMode, GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { GatewayCaseDeps } from './gateway-cases.ts';

const MODEL = 'gemini-2.5-flash';
const ANTHROPIC_ANY = {
  type: 'error',
  error: {
    type: 'invalid_request_error',
    message: "tool_choice.type 'any' needs at least one tool to call, but no tools were given.",
  },
};

/** Registers the cases for the worker and the gateway of the shared stack. */
export function toolChoiceCases(deps: GatewayCaseDeps): void {
  const worker = () => deps.stack().workers[0]!;
  const targets: Readonly<Record<string, () => string>> = {
    worker: () => worker().worker.url,
    gateway: () => deps.stack().url,
  };
  /** Every send the worker counted, whatever its outcome. */
  const upstreamSends = async (): Promise<number> => {
    const text = await (
      await fetch(`${worker().worker.url}/metrics`, {
        headers: { authorization: `Bearer ${deps.adminKey}` },
      })
    ).text();
    return [...text.matchAll(/^gk_upstream_sends_total\{[^}]*\} (\d+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  };
  /** The emulator's generate records for the worker's account after `seq`. */
  const generatesAfter = (seq: number) =>
    deps
      .stack()
      .emulator.records()
      .filter((r) => r.seq > seq && r.kind === 'generate' && r.email === worker().email);
  /** Runs `refuse`, then checks that nothing of it reached Google. */
  const nothingUpstream = async (refuse: () => Promise<void>): Promise<void> => {
    const seq = deps.stack().emulator.records().at(-1)?.seq ?? 0;
    const before = await upstreamSends();
    await refuse();
    expect(generatesAfter(seq)).toEqual([]);
    expect(await upstreamSends()).toBe(before);
  };

  it('the same choice with a tool to call goes up once and is counted (the readers work)', async () => {
    const seq = deps.stack().emulator.records().at(-1)?.seq ?? 0;
    const before = await upstreamSends();
    const client = new Anthropic({
      apiKey: deps.apiKey,
      baseURL: worker().worker.url,
      maxRetries: 0,
    });
    const message = await client.messages.create({
      model: 'claude-3-5-haiku',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'call get_weather {"city": "Oslo"}' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(generatesAfter(seq)).toHaveLength(1);
    expect(await upstreamSends()).toBe(before + 1);
  });

  for (const [name, origin] of Object.entries(targets)) {
    describe(`a forced tool choice with no tools via ${name}`, () => {
      it('Anthropic: 400 invalid_request_error from the SDK, nothing upstream', async () => {
        const client = new Anthropic({ apiKey: deps.apiKey, baseURL: origin(), maxRetries: 0 });
        await nothingUpstream(async () => {
          for (const tools of [undefined, []]) {
            const err = await client.messages
              .create({
                model: 'claude-3-5-haiku',
                max_tokens: 50,
                messages: [{ role: 'user', content: `any, no tools, via ${name}` }],
                ...(tools ? { tools } : {}),
                tool_choice: { type: 'any' },
              })
              .catch((e: unknown) => e);
            expect(err).toBeInstanceOf(Anthropic.BadRequestError);
            expect((err as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual(
              ANTHROPIC_ANY,
            );
            expect(
              (err as InstanceType<typeof Anthropic.BadRequestError>).headers.get(
                'x-upstream-sent',
              ),
            ).toBe('false');
          }
          const stream = client.messages.stream({
            model: 'claude-3-5-haiku',
            max_tokens: 50,
            messages: [{ role: 'user', content: `any, streamed, via ${name}` }],
            tool_choice: { type: 'any' },
          });
          await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.BadRequestError);
        });
      });

      it('Google: 400 INVALID_ARGUMENT from the SDK, nothing upstream', async () => {
        const ai = new GoogleGenAI({ apiKey: deps.apiKey, httpOptions: { baseUrl: origin() } });
        const config = {
          toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } },
        };
        await nothingUpstream(async () => {
          const whole = await ai.models
            .generateContent({ model: MODEL, contents: `ANY, no tools, via ${name}`, config })
            .catch((e: unknown) => e);
          expect(whole).toBeInstanceOf(ApiError);
          expect((whole as ApiError).status).toBe(400);
          expect((whole as ApiError).message).toContain('INVALID_ARGUMENT');
          const streamed = await ai.models
            .generateContentStream({ model: MODEL, contents: `ANY, streamed, via ${name}`, config })
            .catch((e: unknown) => e);
          expect(streamed).toBeInstanceOf(ApiError);
          expect((streamed as ApiError).status).toBe(400);
          // The body as the SDK's own request gets it: Google's shape, naming toolConfig.
          const res = await fetch(`${origin()}/v1beta/models/${MODEL}:generateContent`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-goog-api-key': deps.apiKey },
            body: JSON.stringify({
              contents: [{ role: 'user', parts: [{ text: `ANY, raw, via ${name}` }] }],
              tools: [],
              toolConfig: { functionCallingConfig: { mode: 'ANY' } },
            }),
          });
          expect(res.status).toBe(400);
          expect(res.headers.get('x-upstream-sent')).toBe('false');
          const body = (await res.json()) as { error: Record<string, unknown> };
          expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'status']);
          expect(body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
          expect(body.error['message']).toMatch(/^toolConfig\.functionCallingConfig\.mode ANY /);
        });
      });
    });
  }
}
