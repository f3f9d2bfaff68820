/**
 * The shared worker app (../app-fixture.ts) with a scripted backend in place of the account's
 * queue, for the Anthropic route tests: each request takes the next script, and every job the
 * routes sent is kept (prompt, and the Gemini chat it continued).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ChatBackend, ChatJob } from '../../../../src/api/index.ts';
import type { ChatMetadata, GenerateEvent } from '../../../../src/gemini/index.ts';
import { startWorkerApp } from '../app-fixture.ts';

/** What one request's upstream does: yields events (without `done`), or throws. */
export type Script = (job: ChatJob) => AsyncGenerator<GenerateEvent, void>;

/** The running app. */
export interface ScriptedApp {
  readonly url: string;
  readonly jobs: ChatJob[];
  /** The Gemini chat each answer returned, in order (what a continued turn must send). */
  readonly chats: ChatMetadata[];
  /** Queues the upstream behaviour of the next requests, in order. */
  script(...scripts: Script[]): void;
  client(): Anthropic;
  /** A raw POST with the key and anthropic-version, for what the SDK hides (headers, SSE). */
  post(path: string, body: unknown): Promise<Response>;
  /** The worker's /metrics text. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export const KEY = 'sk-anthropic-route-test-0001';

/** A script answering `text` in chunks of `size`, after `thoughts`. */
export function answering(text: string, thoughts = '', size = 7): Script {
  return async function* () {
    if (thoughts !== '') {
      yield { type: 'thought', delta: thoughts };
    }
    for (const chunk of text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? []) {
      yield { type: 'text', delta: chunk };
    }
  };
}

/** Starts the app; `keepAliveMs` is the silence before a ping. */
export async function startScriptedApp(keepAliveMs = 15_000): Promise<ScriptedApp> {
  const scripts: Script[] = [];
  const jobs: ChatJob[] = [];
  const chats: ChatMetadata[] = [];
  const backend: ChatBackend = {
    async *stream(job) {
      jobs.push(job);
      const script = scripts.shift() ?? answering('Hello.');
      let text = '';
      for await (const event of script(job)) {
        text += event.type === 'text' ? event.delta : '';
        yield event;
      }
      const chat = { cid: `c_${jobs.length}`, rid: `r_${jobs.length}`, rcid: `rc_${jobs.length}` };
      chats.push(chat);
      yield { type: 'done', result: { text, thoughts: '', images: [], chat, modelName: null } };
    },
  };
  const app = await startWorkerApp({
    name: 'anthropic-test',
    backend,
    userKey: KEY,
    deps: {
      sseKeepAliveMs: keepAliveMs,
      anthropicModelMap: {
        'claude-*haiku*': 'gemini-3-flash',
        'claude-*': 'gemini-3-flash-thinking',
      },
    },
  });
  const url = app.url;
  return {
    url,
    jobs,
    chats,
    script: (...more) => scripts.push(...more),
    client: () => new Anthropic({ apiKey: KEY, baseURL: url, maxRetries: 0 }),
    metrics: () => app.metrics(),
    post: (to, body) =>
      fetch(`${url}${to}`, {
        method: 'POST',
        headers: {
          'x-api-key': KEY,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify(body),
      }),
    close: () => app.close(),
  };
}
