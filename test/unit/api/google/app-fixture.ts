/**
 * The shared worker app (../app-fixture.ts) with a scripted backend in place of the account's
 * queue: each send takes the next scripted answer (text, thoughts, or a failure before or after
 * some text) and is recorded with its job, so a test sees what went upstream and in which chat.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatBackend, ChatJob } from '../../../../src/api/index.ts';
import type { GenerateEvent } from '../../../../src/gemini/index.ts';
import { startWorkerApp } from '../app-fixture.ts';

export const USER_KEY = 'sk-google-routes-user-0001';
export const ADMIN_KEY = 'sk-google-routes-admin-0001';

/** One scripted answer: its text (cut into pieces), thoughts, and where it fails, if it does. */
export interface Scripted {
  readonly text?: string;
  readonly thoughts?: string;
  /** Thrown before any event. */
  readonly failBefore?: Error;
  /** Thrown after the text. */
  readonly failAfter?: Error;
  /** Silence after the first piece of text. */
  readonly pauseMs?: number;
}

/** A running app and what its backend saw. */
export interface RoutesApp {
  readonly base: string;
  readonly jobs: ChatJob[];
  /** The Gemini chat (cid) each completed answer came in. */
  readonly answeredIn: string[];
  script(...answers: Scripted[]): void;
  close(): Promise<void>;
}

let chatSerial = 0;

function scriptedBackend(queue: Scripted[], jobs: ChatJob[], answeredIn: string[]): ChatBackend {
  return {
    async *stream(job): AsyncIterable<GenerateEvent> {
      jobs.push(job);
      const answer = queue.shift() ?? { text: 'Hello there.' };
      if (answer.failBefore) {
        throw answer.failBefore;
      }
      if (answer.thoughts) {
        yield { type: 'thought', delta: answer.thoughts };
      }
      const text = answer.text ?? '';
      for (const [i, piece] of (text.match(/[\s\S]{1,7}/g) ?? []).entries()) {
        yield { type: 'text', delta: piece };
        if (i === 0 && answer.pauseMs) {
          await sleep(answer.pauseMs);
        }
      }
      if (answer.failAfter) {
        throw answer.failAfter;
      }
      chatSerial += 1;
      const chat = job.chat ?? { cid: `c_${chatSerial}`, rid: '', rcid: '' };
      answeredIn.push(chat.cid);
      yield {
        type: 'done',
        result: {
          text,
          thoughts: answer.thoughts ?? '',
          images: [],
          chat: { ...chat, rid: `r_${chatSerial}`, rcid: `rc_${chatSerial}` },
          modelName: null,
        },
      };
    },
  };
}

/** Starts the app; `keepAliveMs` is the streams' silence before a keep-alive. */
export async function startRoutesApp(keepAliveMs = 15_000): Promise<RoutesApp> {
  const queue: Scripted[] = [];
  const jobs: ChatJob[] = [];
  const answeredIn: string[] = [];
  const app = await startWorkerApp({
    name: 'google',
    backend: scriptedBackend(queue, jobs, answeredIn),
    userKey: USER_KEY,
    adminKey: ADMIN_KEY,
    deps: {
      limits: {
        bodyBytes: 256 * 1024,
        uploadBytes: 64 * 1024,
        promptChars: 64 * 1024,
        imageBytes: 64 * 1024,
        imagesPerRequest: 4,
      },
      sseKeepAliveMs: keepAliveMs,
      status: {
        health: async () => ({ account: 'google@example.com' }),
        readiness: async () => ({ ready: true, reason: null }),
      },
    },
  });
  return {
    base: app.url,
    jobs,
    answeredIn,
    script: (...answers) => {
      queue.push(...answers);
    },
    close: () => app.close(),
  };
}
