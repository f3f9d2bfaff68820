/**
 * What the gateway reads of a /v1/responses body: the uploads its `input` names as images (they
 * bind the request to the node holding them), the previous_response_id it continues, and for a
 * stateless client the history it resends, keyed as the answer it continues was bound.
 */
import { describe, expect, it } from 'vitest';
import { parseResponsesRequest } from '../../../src/gateway/chat-request.ts';
import { responsesTap } from '../../../src/gateway/responses-dialect.ts';

const body = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields));

describe('parseResponsesRequest', () => {
  it('binds the uploads that input items name as images, and only those', () => {
    const parsed = parseResponsesRequest(
      body({
        model: 'gemini-2.5-flash',
        stream: true,
        input: [
          { role: 'user', content: [{ type: 'input_image', image_url: 'uploads/a.png' }] },
          { type: 'function_call_output', call_id: 'c', output: 'ok' },
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'and these' },
              { type: 'input_image', image_url: 'b.png' },
              { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
              { type: 'input_image', image_url: 'https://example.com/c.png' },
            ],
          },
        ],
      }),
    );
    expect(parsed.fileKeys).toEqual(['file:a.png', 'file:b.png']);
    expect(parsed).toMatchObject({ model: 'gemini-2.5-flash', stream: true, dialect: 'openai' });
  });

  it('continues by previous_response_id, and reads a plain string input', () => {
    const parsed = parseResponsesRequest(
      body({ model: 'm', input: 'hello', previous_response_id: 'resp_1' }),
    );
    expect(parsed.conversationId).toBe('resp_1');
    expect(parsed.keys).toContain('resp_1');
    expect(parsed.fileKeys).toEqual([]);
  });
});

describe('a stateless Responses client through the gateway', () => {
  const user = { role: 'user', content: [{ type: 'input_text', text: 'weather in Oslo?' }] };
  const call = {
    type: 'function_call',
    call_id: 'call_1',
    name: 'get_weather',
    arguments: '{"city":"Oslo"}',
  };
  const said = (text: string) => ({
    type: 'message',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  const output = { type: 'function_call_output', call_id: 'call_1', output: 'sunny' };
  const response = (items: unknown[]) => ({ id: 'resp_1', status: 'completed', output: items });
  const streamed = [said('I will look.'), call, said('\n\nThen I answer.')];
  const whole = [said('I will look.\n\nThen I answer.'), call];

  /** The key the first turn binds once `tap` read its answer. */
  function boundAfter(tap: ReturnType<typeof responsesTap>, chunks: readonly string[]): string {
    chunks.forEach((chunk) => tap.push(Buffer.from(chunk)));
    const first = parseResponsesRequest(body({ model: 'm', input: [user] }));
    return first.keyAfter(tap.answer()!, tap.toolCalls());
  }
  const sse = (items: unknown[]) => [
    `data: ${JSON.stringify({ type: 'response.output_text.delta', delta: 'I will' })}\n\n`,
    `data: ${JSON.stringify({ type: 'response.completed', response: response(items) })}\n\n`,
  ];

  it.each([
    ['a streamed answer, resent item by item', sse(streamed), streamed],
    ['a whole answer, resent as it came', [JSON.stringify(response(whole))], whole],
    ['a streamed answer, resent in the whole shape', sse(streamed), whole],
  ])('%s: the next turn carries the key the answer was bound under', (_name, chunks, resent) => {
    const bound = boundAfter(responsesTap(chunks.length > 1), chunks);
    const next = parseResponsesRequest(body({ model: 'm', input: [user, ...resent, output] }));
    expect(next.keys[0]).toBe(bound);
  });

  it('binds nothing for a failed or broken answer, and no history for a first turn', () => {
    const failed = responsesTap(false);
    failed.push(Buffer.from(JSON.stringify({ ...response(whole), status: 'failed' })));
    expect(failed.answer()).toBeNull();
    const broken = responsesTap(true);
    broken.push(Buffer.from(`data: ${JSON.stringify({ type: 'error', message: 'cut' })}\n\n`));
    expect(broken.answer()).toBeNull();
    expect(parseResponsesRequest(body({ model: 'm', input: [user] })).keys).toEqual([]);
  });
});
