import { EventEmitter } from 'node:events';
import type { CDPSession } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedirectLog } from '../../../src/browser/page-redirects.ts';

const SENT = 'https://gemini.google.com/_/BardChatUi/data/StreamGenerate?_reqid=1234&rt=c';
const SORRY = 'https://www.google.com/sorry/index?continue=https://gemini.google.com/app';

function fakeCdp() {
  const events = new EventEmitter();
  const cdp = events as unknown as Pick<CDPSession, 'on'>;
  const hop = (from: string, to: string, status = 302) =>
    events.emit('Network.requestWillBeSent', {
      requestId: 'r1',
      request: { url: to, method: 'GET' },
      redirectResponse: { url: from, status, headers: { Location: to } },
    });
  const plain = (url: string) =>
    events.emit('Network.requestWillBeSent', { requestId: 'r2', request: { url, method: 'GET' } });
  return { cdp, hop, plain };
}

describe('RedirectLog', () => {
  it('gives a watched request its redirect, whether the event came before or after the ask', async () => {
    const { cdp, hop } = fakeCdp();
    const log = new RedirectLog(cdp);
    const early = log.watch(SENT);
    hop(SENT, SORRY);
    expect(await early.result(1000)).toEqual({ status: 302, location: SORRY });
    const late = log.watch(SENT);
    const pending = late.result(5000);
    setTimeout(() => hop(SENT, SORRY, 303), 10);
    expect(await pending).toEqual({ status: 303, location: SORRY });
  });

  it('ignores requests that were not redirected, other URLs and unwatched ones', async () => {
    const { cdp, hop, plain } = fakeCdp();
    const log = new RedirectLog(cdp);
    hop(SENT, SORRY); // before anyone watched: nobody's
    const watch = log.watch(SENT);
    plain(SENT);
    hop(`${SENT}&other=1`, SORRY);
    const started = Date.now();
    expect(await watch.result(50)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('two watches of one URL get one redirect each, oldest first; a stopped watch gets none', async () => {
    const { cdp, hop } = fakeCdp();
    const log = new RedirectLog(cdp);
    const gone = log.watch(SENT);
    gone.stop();
    const a = log.watch(SENT);
    const b = log.watch(SENT);
    hop(SENT, 'https://accounts.google.com/ServiceLogin');
    hop(SENT, SORRY);
    expect(await a.result(10)).toMatchObject({
      location: 'https://accounts.google.com/ServiceLogin',
    });
    expect(await b.result(10)).toMatchObject({ location: SORRY });
    expect(await gone.result(0)).toBeNull();
  });
});
