/**
 * A conversation store that cannot write (a full or read-only disk) costs the client nothing: the
 * answer is whole, and the failure is logged, not thrown.
 */
import { PassThrough } from 'node:stream';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationStore, type ChatBackend } from '../../../src/api/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { startWorkerApp, type RunningWorkerApp } from './app-fixture.ts';

const USER_KEY = 'sk-save-failure-user-0123456789';
let app: RunningWorkerApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const backend: ChatBackend = {
  async *stream() {
    yield { type: 'text', delta: 'still answered' };
    yield {
      type: 'done',
      result: {
        text: 'still answered',
        thoughts: '',
        images: [],
        chat: { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' },
        modelName: null,
      },
    };
  },
};

class BrokenStore extends ConversationStore {
  saves = 0;
  override save(): Promise<void> {
    this.saves += 1;
    return Promise.reject(new Error('ENOSPC: no space left on device'));
  }
}

describe('a conversation that cannot be saved', () => {
  it('still answers 200 in full, streamed and not, and logs the failure', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (b: Buffer) => lines.push(b.toString('utf8')));
    const store = new BrokenStore('/nonexistent/conversations');
    app = await startWorkerApp({
      name: 'save-failure',
      backend,
      userKey: USER_KEY,
      deps: { conversations: store, logger: createLogger({ stream }) },
    });
    const client = new OpenAI({ apiKey: USER_KEY, baseURL: `${app.url}/v1`, maxRetries: 0 });
    const whole = await client.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(whole.choices[0]?.message.content).toBe('still answered');
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'hello again' }],
      stream: true,
    })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe('still answered');
    // Saves are after-work: they run a few ms after the answer.
    await expect.poll(() => store.saves).toBe(2);
    await expect
      .poll(() => lines.filter((l) => l.includes('could not save the conversation')).length)
      .toBe(2);
  });
});
