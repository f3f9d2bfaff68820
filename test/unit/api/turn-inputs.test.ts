/**
 * A turn's uploads, staged: the first send's list and the replay's, each naming its images in
 * the order the prompt's notes number them, the prompt file last, kept images read in place
 * (never copied, never deleted by cleanup), and every client image named for keeping.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planConversation } from '../../../src/api/conversation-plan.ts';
import { ConversationStore } from '../../../src/api/conversations.ts';
import { KeptImages } from '../../../src/api/kept-images.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import { PROMPT_FILE_NOTE } from '../../../src/api/prompt-file.ts';
import { prepareTurnInputs } from '../../../src/api/turn-inputs.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const DATA_URL = `data:image/png;base64,${PNG.toString('base64')}`;
const root = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gk-turn-inputs-'));
const turnOf = (messages: unknown[]) => chatTurnOf(parseChatRequest({ messages }));
const withImage = (text: string) => ({
  role: 'user',
  content: [
    { type: 'text', text },
    { type: 'image_url', image_url: { url: DATA_URL } },
  ],
});

describe('prepareTurnInputs', () => {
  it('a follow-up: the current image first; the replay adds the kept one before it', async () => {
    const dir = root();
    const store = new ConversationStore(path.join(dir, 'conversations'));
    const name = KeptImages.nameOf(PNG, 'image/png')!;
    const staged = path.join(dir, 'staged');
    fs.writeFileSync(staged, PNG);
    await store.keptImages.keep([{ name, path: staged }], [name]);
    await store.save(
      {
        conversation_id: 'c1',
        created_at: '',
        updated_at: '',
        model: 'm',
        metadata: ['c', 'r', 'rc'],
        context_token: null,
        messages: [
          { role: 'user', content: 'first', images: [name] },
          { role: 'assistant', content: 'seen' },
        ],
      },
      'k',
    );
    const cp = await planConversation('c1', turnOf([withImage('second')]), store);
    const inputs = await prepareTurnInputs(cp, [], {
      read: { uploadsDir: path.join(dir, 'uploads'), maxBytes: 1 << 20 },
      inputsDir: path.join(dir, 'inputs'),
      inlineMaxChars: 10_000,
      kept: store.keptImages,
    });
    expect(inputs.prompt).toBe('second');
    expect(inputs.inputs.map((i) => i.fileName)).toEqual(['image_1.png']);
    expect(inputs.replayPrompt).toContain('[User]: first\n(attached: image 1)');
    expect(inputs.replayInputs.map((i) => [i.fileName, i.path])).toEqual([
      ['image_1.png', path.join(store.keptImages.dir, name)],
      ['image_2.png', inputs.inputs[0]!.path],
    ]);
    expect(inputs.keptNames.get(DATA_URL)).toBe(name);
    expect(inputs.toKeep).toEqual([{ name, path: inputs.inputs[0]!.path }]);
    await inputs.cleanup();
    expect(fs.existsSync(inputs.inputs[0]!.path)).toBe(false);
    expect(fs.existsSync(path.join(store.keptImages.dir, name))).toBe(true);
  });

  it('a long prompt: message.txt after the images, holding the prompt; no replay, no replay files', async () => {
    const dir = root();
    const store = new ConversationStore(path.join(dir, 'conversations'));
    const long = 'q'.repeat(500);
    const cp = await planConversation(undefined, turnOf([withImage(long)]), store);
    const inputs = await prepareTurnInputs(cp, [], {
      read: { uploadsDir: path.join(dir, 'uploads'), maxBytes: 1 << 20 },
      inputsDir: path.join(dir, 'inputs'),
      inlineMaxChars: 400,
      kept: store.keptImages,
    });
    expect(inputs.prompt).toBe(PROMPT_FILE_NOTE);
    expect(inputs.inputs.map((i) => i.fileName)).toEqual(['image_1.png', 'message.txt']);
    expect(fs.readFileSync(inputs.inputs[1]!.path, 'utf8')).toBe(long);
    expect(inputs.replayPrompt).toBeNull();
    expect(inputs.replayInputs).toEqual([]);
    await inputs.cleanup();
  });

  describe('the image cap counts every place an image is sent', () => {
    const copies = (text: string, n: number) => ({
      role: 'user',
      content: [
        { type: 'text', text },
        ...Array.from({ length: n }, () => ({ type: 'image_url', image_url: { url: DATA_URL } })),
      ],
    });
    /** Plans and stages `messages` as prepareTurn does: the plan's cap less the files. */
    const stage = async (messages: unknown[], files: string[] = []) => {
      const dir = root();
      const store = new ConversationStore(path.join(dir, 'conversations'));
      fs.mkdirSync(path.join(dir, 'uploads'));
      for (const file of files) {
        fs.writeFileSync(path.join(dir, 'uploads', file), PNG);
      }
      const cp = await planConversation(undefined, turnOf(messages), store, {
        maxImages: 10 - files.length,
      });
      return prepareTurnInputs(cp, files, {
        read: { uploadsDir: path.join(dir, 'uploads'), maxBytes: 1 << 20, maxImages: 10 },
        inputsDir: path.join(dir, 'inputs'),
        inlineMaxChars: 10_000,
        kept: store.keptImages,
      });
    };

    it('11 copies of one image are refused like 11 images, and so are 9 copies and 2 files', async () => {
      await expect(stage([copies('many', 11)])).rejects.toMatchObject({
        status: 400,
        code: 'too_many_images',
      });
      await expect(stage([copies('many', 9)], ['a.png', 'b.png'])).rejects.toMatchObject({
        code: 'too_many_images',
      });
    });

    it('10 copies go: one staged file, uploaded once per place under its own name', async () => {
      const inputs = await stage([copies('ten', 10)]);
      expect(inputs.inputs.map((i) => i.fileName)).toEqual(
        Array.from({ length: 10 }, (_, i) => `image_${i + 1}.png`),
      );
      expect(new Set(inputs.inputs.map((i) => i.path)).size).toBe(1);
      await inputs.cleanup();
    });

    it('a resent history with more earlier images than the cap is not refused: the oldest are left out', async () => {
      const history = Array.from({ length: 6 }, (_, i) => [
        copies(`turn ${i}`, 2),
        { role: 'assistant', content: `seen ${i}` },
      ]).flat();
      const inputs = await stage([...history, copies('now', 3)]);
      expect(inputs.inputs).toHaveLength(10);
      expect(inputs.prompt).toContain('[User]: turn 0\n(2 images omitted');
      expect(inputs.prompt).toContain('[User]: now\n(attached: image 8, image 9, image 10)');
      await inputs.cleanup();
    });
  });
});
