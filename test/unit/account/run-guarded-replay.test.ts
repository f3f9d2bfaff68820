/** runGuarded after Gemini rejects a follow-up (1097): one replay as a new chat with the history. */
import { describe, expect, it } from 'vitest';
import { done, text } from './fakes.ts';
import { CHAT, job, setup } from './guard-setup.ts';

describe('runGuarded: follow-up rejected (1097)', () => {
  it('replays once as a new chat carrying the history', async () => {
    const t = await setup([{ fail: 'followup_rejected' }, { events: [text('re'), done('re')] }]);
    const r = await t.run(
      job({ chat: CHAT, replayPrompt: '[User]: a\n[Model]: b\n[User]: hello' }),
    );
    expect(r.error).toBeUndefined();
    expect(t.upstream.calls).toHaveLength(2);
    expect(t.upstream.calls[1]).toMatchObject({
      chat: null,
      prompt: '[User]: a\n[Model]: b\n[User]: hello',
    });
    expect(t.account.snapshot().cooldown).toBeNull();
  });

  it('the replay uploads the earlier images too, pushing a file already sent only once', async () => {
    const t = await setup([{ fail: 'followup_rejected' }, { events: [text('re'), done('re')] }]);
    const current = { path: '/tmp/in-cur', fileName: 'image_1.png', mimeType: 'image/png' };
    const earlier = { path: '/tmp/kept-a', fileName: 'image_1.png', mimeType: 'image/png' };
    const asSecond = { ...current, fileName: 'image_2.png' };
    const again = { ...current };
    const r = await t.run(
      job({
        chat: CHAT,
        inputs: [current],
        replayPrompt: 'the whole history',
        replayInputs: [earlier, asSecond, again],
      }),
    );
    expect(r.error).toBeUndefined();
    expect(t.upstream.calls[0]?.files).toEqual([
      { fileId: 'id-image_1.png', fileName: 'image_1.png' },
    ]);
    expect(t.upstream.calls[1]?.files?.map((f) => f.fileName)).toEqual([
      'image_1.png',
      'image_2.png',
      'image_1.png',
    ]);
    // current (first send), earlier, current renamed image_2; `again` is `current` once more.
    expect(t.upload.mock.calls.map((c) => c[0].path)).toEqual([
      '/tmp/in-cur',
      '/tmp/kept-a',
      '/tmp/in-cur',
    ]);
  });

  it('is rethrown when there is no history to replay', async () => {
    const t = await setup([{ fail: 'followup_rejected' }]);
    const r = await t.run(job({ chat: CHAT, replayPrompt: null }));
    expect(r.error).toMatchObject({ kind: 'followup_rejected' });
    expect(t.upstream.calls).toHaveLength(1);
  });

  it('is rethrown when the replay is rejected too', async () => {
    const t = await setup([{ fail: 'followup_rejected' }, { fail: 'followup_rejected' }]);
    const r = await t.run(job({ chat: CHAT, replayPrompt: 'history' }));
    expect(r.error).toMatchObject({ kind: 'followup_rejected' });
    expect(t.upstream.calls).toHaveLength(2);
  });
});
