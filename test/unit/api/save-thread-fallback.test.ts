/**
 * The save thread's fallback: a thread that stopped before saving passes its saves on, and when no
 * thread can be started the same steps run on the event loop, so turns are still saved; a thread
 * that had saved and then died is replaced by another thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { conversationAfterTurn, planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore } from '../../../src/api/index.ts';
import { SaveThread } from '../../../src/api/save-thread.ts';
import { createLogger } from '../../../src/logging.ts';
import { CRASHING_SOURCE, answer, chat, filesIn, turnOf } from './save-files.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gk-save-fallback-'));

describe('the save thread when no thread can start', () => {
  it('saves on the event loop when starting a thread throws, and says so once', async () => {
    const dir = path.join(tmp(), 'c');
    const onFallback = vi.fn();
    const startThread = vi.fn(() => {
      throw Object.assign(new Error('thread limit'), { code: 'ERR_WORKER_INIT_FAILED' });
    });
    const thread = new SaveThread({ startThread, onFallback });
    await expect(thread.run(filesIn(dir, 'one', 'a'))).resolves.toEqual({ existed: false });
    await expect(thread.run(filesIn(dir, 'one', 'b'))).resolves.toEqual({ existed: true });
    expect(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')).toBe('b');
    expect(fs.readlinkSync(path.join(dir, '.history-keys', 'k'))).toBe('one');
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(thread.onEventLoop).toBe(true);
    expect(startThread).toHaveBeenCalledTimes(1);
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback.mock.calls[0]![0]).toMatch(/no thread could be started: thread limit/);
  });

  it("fails a save on the event loop with the failing call's code", async () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, 'blocked'), 'a file where the folder goes');
    const thread = new SaveThread({
      startThread: () => {
        throw new Error('thread limit');
      },
    });
    await expect(
      thread.run(filesIn(path.join(root, 'blocked', 'c'), 'one', 'x')),
    ).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('moves to the event loop after three threads in a row stop before saving anything', async () => {
    const dir = path.join(tmp(), 'c');
    const onFallback = vi.fn();
    const thread = new SaveThread({ source: `throw new Error('no fs here');`, onFallback });
    onTestFinished(() => thread.terminate());
    // Its thread and the one it is given next both stop: it fails.
    await expect(thread.run(filesIn(dir, 'one', 'a'))).rejects.toThrow(/stopped \(no fs here\)/);
    expect(thread.onEventLoop).toBe(false);
    // The third thread stops too: the save it held is made on the event loop.
    await expect(thread.run(filesIn(dir, 'one', 'b'))).resolves.toEqual({ existed: false });
    expect(thread.onEventLoop).toBe(true);
    await expect(thread.run(filesIn(dir, 'one', 'c'))).resolves.toEqual({ existed: true });
    expect(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')).toBe('c');
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback.mock.calls[0]![0]).toMatch(/3 threads in a row stopped before saving/);
  });

  it('counts only threads in a row: a thread that saved starts the count again', async () => {
    const dir = path.join(tmp(), 'c');
    const thread = new SaveThread({ source: CRASHING_SOURCE });
    onTestFinished(() => thread.terminate());
    // Two threads that never saved, then one that did.
    await expect(thread.run(filesIn(dir, 'one', 'crash'))).rejects.toThrow(/stopped \(boom\)/);
    await expect(thread.run(filesIn(dir, 'one', 'ok'))).resolves.toEqual({ existed: false });
    // That thread dies having saved (not counted); two fresh ones never save: two in a row.
    await expect(thread.run(filesIn(dir, 'two', 'crash'))).rejects.toThrow(/stopped \(boom\)/);
    await expect(thread.run(filesIn(dir, 'two', 'crash'))).rejects.toThrow(/stopped \(boom\)/);
    expect(thread.onEventLoop).toBe(false);
  });

  it('gives a save held by a thread that stopped before saving to the next thread', async () => {
    const dir = path.join(tmp(), 'c');
    let starts = 0;
    const thread = new SaveThread({
      // The first thread cannot run; the next is a working one.
      startThread: (source) =>
        new Worker((starts += 1) === 1 ? `throw new Error('first')` : source, {
          eval: true,
          execArgv: [],
        }),
    });
    onTestFinished(() => thread.terminate());
    const saves = ['a', 'b'].map((body) => thread.run(filesIn(dir, 'one', body)));
    expect((await Promise.all(saves)).map((s) => s.existed)).toEqual([false, true]);
    expect(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')).toBe('b');
    expect(starts).toBe(2);
  });

  it('keeps using threads when a thread that had saved dies', async () => {
    const dir = path.join(tmp(), 'c');
    const thread = new SaveThread();
    onTestFinished(() => thread.terminate());
    for (const body of ['a', 'b', 'c', 'd']) {
      await expect(thread.run(filesIn(dir, body, body))).resolves.toEqual({ existed: false });
      await thread.terminate();
    }
    expect(thread.onEventLoop).toBe(false);
  });
});

describe('a conversation store whose save thread cannot start', () => {
  it('saves on the event loop and logs the move once', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (b: Buffer) => lines.push(b.toString('utf8')));
    const store = new ConversationStore(tmp(), createLogger({ stream }), {
      startThread: () => {
        throw new Error('thread limit');
      },
    });
    for (const text of ['Q1', 'Q2']) {
      const cp = await planConversation(undefined, turnOf(text), store);
      const { conversation, key } = conversationAfterTurn(cp, answer('A'), 'm', chat);
      await store.save(conversation, key, { replaces: false });
      expect((await store.get(cp.conversationId))?.messages[0]?.content).toBe(text);
    }
    await expect
      .poll(() => lines.filter((l) => l.includes('conversation saves now run on the event loop')))
      .toHaveLength(1);
    expect(lines.join('')).toContain('no thread could be started: thread limit');
  });
});
