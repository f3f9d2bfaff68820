/**
 * What the gateway reads of a /v1/responses body: the uploads its `input` names as images (they
 * bind the request to the node holding them) and the previous_response_id it continues.
 */
import { describe, expect, it } from 'vitest';
import { parseResponsesRequest } from '../../../src/gateway/chat-request.ts';

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
