/**
 * History fidelity, planned: a replay carries the images of earlier turns (the client's own, or
 * the ones kept with a stored conversation), numbered by notes in the prompt and capped to the
 * most recent; a prompt too long to send inline goes as message.txt with the blocks inline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversationAfterTurn, planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore } from '../../../src/api/conversations.ts';
import { renderPromptParts, TOOLS_BEGIN } from '../../../src/api/core/index.ts';
import { KeptImages } from '../../../src/api/kept-images.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import {
  outgoingPrompt,
  PROMPT_FILE_NAME,
  PROMPT_FILE_NOTE,
} from '../../../src/api/prompt-file.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gk-hist-'));
const turnOf = (messages: unknown[], extra: Record<string, unknown> = {}) =>
  chatTurnOf(parseChatRequest({ messages, ...extra }));
const img = (url: string) => ({ type: 'image_url', image_url: { url } });
const userWith = (text: string, ...urls: string[]) => ({
  role: 'user',
  content: [{ type: 'text', text }, ...urls.map(img)],
});
const chat = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' };
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('a replay carries earlier images', () => {
  it('a stateless history: earlier images first, then the current, each message noted', async () => {
    const cp = await planConversation(
      undefined,
      turnOf([
        userWith('What is this?', 'https://x/a.png'),
        { role: 'assistant', content: 'A cat.' },
        userWith('And this one?', 'https://x/b.png'),
      ]),
      new ConversationStore(tmp()),
    );
    expect(cp.chat).toBeNull();
    expect(cp.images).toEqual(['https://x/a.png', 'https://x/b.png']);
    expect(cp.prompt).toContain('[User]: What is this?\n(attached: image 1)\n[Assistant]: A cat.');
    expect(cp.prompt).toContain('[User]: And this one?\n(attached: image 2)');
  });

  it('over the cap: the current images and the most recent earlier ones; the rest said omitted', () => {
    const parts = renderPromptParts(
      turnOf([
        userWith('one', 'https://x/1.png', 'https://x/2.png'),
        { role: 'assistant', content: 'ok' },
        userWith('two', 'https://x/3.png'),
        { role: 'assistant', content: 'ok' },
        userWith('now', 'https://x/4.png', 'https://x/5.png'),
      ]),
      { continued: false, maxImages: 3 },
    );
    expect(parts.images).toEqual(['https://x/3.png', 'https://x/4.png', 'https://x/5.png']);
    expect(parts.omittedImages).toBe(2);
    expect(parts.conversation).toContain(
      '[User]: one\n(2 images omitted: only the most recent images fit the limit per request)',
    );
    expect(parts.conversation).toContain('[User]: two\n(attached: image 1)');
    expect(parts.conversation).toContain('[User]: now\n(attached: image 2, image 3)');
  });

  it('a replay long enough to go as message.txt leaves it one of the places', async () => {
    const messages = [
      userWith('one', 'https://x/1.png'),
      { role: 'assistant', content: 'ok' },
      userWith('two', 'https://x/2.png'),
      { role: 'assistant', content: 'ok' },
      userWith('w'.repeat(300), 'https://x/3.png'),
    ];
    const store = new ConversationStore(tmp());
    const short = await planConversation(undefined, turnOf(messages), store, { maxImages: 3 });
    expect(short.images).toHaveLength(3);
    const long = await planConversation(undefined, turnOf(messages), store, {
      maxImages: 3,
      inlineMaxChars: 200,
    });
    expect(long.images).toEqual(['https://x/2.png', 'https://x/3.png']);
    expect(long.prompt).toContain('[User]: one\n(1 image omitted');
  });

  it('a cap below the current images never drops a current one (checkInputCount refuses those)', () => {
    const parts = renderPromptParts(
      turnOf([
        userWith('old', 'https://x/1.png'),
        { role: 'assistant', content: 'ok' },
        userWith('now', 'https://x/2.png', 'https://x/3.png'),
      ]),
      { continued: false, maxImages: 1 },
    );
    expect(parts.images).toEqual(['https://x/2.png', 'https://x/3.png']);
    expect(parts.omittedImages).toBe(1);
  });

  it('a lone turn and a native follow-up get no notes', () => {
    const lone = renderPromptParts(turnOf([userWith('hi', 'https://x/1.png')]), {
      continued: false,
    });
    expect(lone.conversation).toBe('hi');
    const followUp = renderPromptParts(
      turnOf([
        userWith('a', 'https://x/1.png'),
        { role: 'assistant', content: 'b' },
        userWith('c', 'https://x/2.png'),
      ]),
      { continued: true },
    );
    expect(followUp).toMatchObject({ conversation: 'c', images: ['https://x/2.png'] });
  });

  it('a stored conversation keeps its images; a seed-style turn replays them by name', async () => {
    const store = new ConversationStore(tmp());
    const data = Buffer.from(PNG, 'base64');
    const dataUrl = `data:image/png;base64,${PNG}`;
    const first = await planConversation(undefined, turnOf([userWith('look', dataUrl)]), store);
    const name = KeptImages.nameOf(data, 'image/png')!;
    expect(name).toMatch(/^[0-9a-f]{64}\.png$/);
    const staged = path.join(tmp(), 'staged');
    fs.writeFileSync(staged, data);
    const saved = conversationAfterTurn(
      first,
      { text: 'seen', toolCalls: [] },
      'm',
      chat,
      new Map([[dataUrl, name]]),
    );
    expect(saved.conversation.messages[0]).toEqual({
      role: 'user',
      content: 'look',
      images: [name],
    });
    await store.save(saved.conversation, saved.key);
    await store.keptImages.keep([{ name, path: staged }], [name]);

    const next = await planConversation(
      first.conversationId,
      turnOf([userWith('and now?')]),
      store,
    );
    expect(next.chat).toEqual(chat);
    expect(next.images).toEqual([]);
    expect(next.replayImages).toEqual([{ kept: name }]);
    expect(next.replayPrompt).toContain('[User]: look\n(attached: image 1)');
    // Saved again without reading it: the name carries over.
    const again = conversationAfterTurn(next, { text: 'ok', toolCalls: [] }, 'm', chat);
    expect(again.conversation.messages[0]?.images).toEqual([name]);

    // A kept file gone (swept) is neither sent nor announced.
    fs.rmSync(path.join(store.keptImages.dir, name));
    const gone = await planConversation(first.conversationId, turnOf([userWith('still?')]), store);
    expect(gone.replayImages).toEqual([]);
    expect(gone.replayPrompt).not.toContain('attached');
  });

  it('a resent history that continues natively: kept images by name, no URL to fetch again', async () => {
    const store = new ConversationStore(tmp());
    const data = Buffer.from(PNG, 'base64');
    const name = KeptImages.nameOf(data, 'image/png')!;
    const staged = path.join(tmp(), 'staged');
    fs.writeFileSync(staged, data);
    const u1 = userWith('look', 'https://x/kept.png', 'https://x/gone.png');
    /** A first turn answered `answer`, saved with https://x/kept.png kept as `name`. */
    const answered = async (message: unknown, answer: string) => {
      const cp = await planConversation(undefined, turnOf([message]), store);
      const keptAs = new Map([['https://x/kept.png', name]]);
      const saved = conversationAfterTurn(cp, { text: answer, toolCalls: [] }, 'm', chat, keptAs);
      await store.save(saved.conversation, saved.key);
    };
    // Only the first image was read and kept (say the second was not an image we keep).
    await answered(u1, 'seen');
    await store.keptImages.keep([{ name, path: staged }], [name]);

    const a1 = { role: 'assistant', content: 'seen' };
    const u2 = userWith('and this?', 'data:image/png;base64,AAAA');
    const next = await planConversation(undefined, turnOf([u1, a1, u2]), store);
    expect(next.chat).toEqual(chat);
    expect(next.images).toEqual(['data:image/png;base64,AAAA']);
    // The stored message names one image for two parts: no substitution; the replay of a native
    // follow-up then carries no earlier URL (it would be fetched for a send that may never be).
    expect(next.replayImages).toEqual(['data:image/png;base64,AAAA']);

    const u1Kept = userWith('look', 'https://x/kept.png');
    await answered(u1Kept, 'seen too');
    const next2 = await planConversation(
      undefined,
      turnOf([u1Kept, { role: 'assistant', content: 'seen too' }, userWith('again?')]),
      store,
    );
    expect(next2.chat).toEqual(chat);
    expect(next2.replayImages).toEqual([{ kept: name }]);
    expect(next2.replayPrompt).toContain('[User]: look\n(attached: image 1)');
  });

  it('kept names never escape the folder', async () => {
    const kept = new KeptImages(tmp());
    expect(await kept.path('../conversations.json')).toBeNull();
    expect(await kept.path(`${'a'.repeat(64)}.png`)).toBeNull();
  });
});

describe('a prompt too long to send inline', () => {
  const tools = {
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    ],
  };

  it('fits: sent as it is', () => {
    const parts = renderPromptParts(turnOf([{ role: 'user', content: 'short' }]), {
      continued: false,
    });
    expect(outgoingPrompt(parts, 100)).toEqual({ text: 'short', file: null });
  });

  it('too long: the body goes in message.txt, the tool block and the note stay inline', () => {
    const long = 'x'.repeat(5000);
    const parts = renderPromptParts(
      turnOf(
        [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: long },
        ],
        tools,
      ),
      { continued: false },
    );
    const out = outgoingPrompt(parts, 4000);
    expect(out.file?.fileName).toBe(PROMPT_FILE_NAME);
    expect(out.file?.mimeType).toBe('text/plain');
    const body = out.file!.data.toString('utf8');
    expect(body).toBe(`System instructions:\nBe brief.\n\n[User]: ${long}`);
    expect(out.text.startsWith(TOOLS_BEGIN)).toBe(true);
    expect(out.text.endsWith(PROMPT_FILE_NOTE)).toBe(true);
    expect(out.text.length).toBeLessThanOrEqual(4000);
  });

  it('blocks too long themselves: everything in the file, the note says where the rules are', () => {
    const parts = renderPromptParts(turnOf([{ role: 'user', content: 'y'.repeat(300) }], tools), {
      continued: false,
    });
    const out = outgoingPrompt(parts, 200);
    expect(out.file?.data.toString('utf8')).toContain(TOOLS_BEGIN);
    expect(out.text).toContain(PROMPT_FILE_NOTE);
    expect(out.text).toContain('instructions on how to answer are at the start of the file');
  });
});
