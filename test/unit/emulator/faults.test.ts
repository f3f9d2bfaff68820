import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Fault } from '../../../src/emulator/index.ts';
import {
  GENERATE_URL,
  generateForm,
  payloads,
  readFrames,
  signedIn,
  startTestEmulator,
  useTestEmulator,
} from './support.ts';

const t = useTestEmulator({ chunkDelayMs: 5 });

let n = 0;
const email = (tag: string) => `${tag}-${(n += 1)}@example.com`;
const lastRecord = (who: string) =>
  t.emulator
    .records()
    .filter((r) => r.email === who)
    .at(-1);

/** The in-band error code of a framed body, if any. */
function inBandCodes(body: string): number[] {
  return readFrames(body).frames.flatMap((f) =>
    f.envelopes
      .filter((e) => e[0] === 'wrb.fr' && Array.isArray(e[5]))
      .map((e) => (((e[5] as unknown[])[2] as unknown[][])[0]?.[1] as number[])[0] ?? 0),
  );
}

describe('in-band faults', () => {
  it.each([
    ['usage_limit', 1037],
    ['ip_blocked', 1060],
    ['transient', 1013],
    ['model_invalid', 1052],
    ['model_inconsistent', 1050],
  ] as [Fault, number][])('%s answers %i once, then a normal answer', async (fault, code) => {
    const who = email(fault);
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, fault);
    const res = await s.generate(generateForm(s.at, 'x'));
    expect(res.status).toBe(200);
    expect(inBandCodes(await res.text())).toEqual([code]);
    expect(lastRecord(who)).toMatchObject({ kind: 'generate', fault, status: 200 });
    const again = await (await s.generate(generateForm(s.at, 'x'))).text();
    expect(inBandCodes(again)).toEqual([]);
    expect(again).toContain('Echo (turn 1): x');
  });

  it('followup_rejected waits for a request that carries a cid', async () => {
    const who = email('followup');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'followup_rejected');
    const first = payloads(
      readFrames(await (await s.generate(generateForm(s.at, 'a'))).text()).frames,
    );
    const last = first.at(-1) ?? [];
    const [cid, rid] = last[1] as [string, string];
    const rcid = (last[4] as unknown[][])[0]?.[0] as string;
    const res = await s.generate(generateForm(s.at, 'b', { cid, rid, rcid }));
    expect(inBandCodes(await res.text())).toEqual([1097]);
    expect(lastRecord(who)).toMatchObject({ fault: 'followup_rejected', cid });
  });

  it('error_after_answer sends a complete answer, then 1096', async () => {
    const who = email('after');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'error_after_answer');
    const body = await (await s.generate(generateForm(s.at, 'done'))).text();
    const inners = payloads(readFrames(body).frames);
    const final = (inners.at(-1)?.[4] as unknown[][] | undefined)?.[0];
    expect(final?.[8]).toEqual([2]);
    expect(inBandCodes(body)).toEqual([1096]);
  });
});

describe('faults around acceptance', () => {
  it('error_mid_answer sends a part of the answer, then 1096 and a clean end', async () => {
    const who = email('mid');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'error_mid_answer');
    const body = await (await s.generate(generateForm(s.at, 'half of it'))).text();
    const inners = payloads(readFrames(body).frames);
    const last = (inners.at(-1)?.[4] as unknown[][] | undefined)?.[0];
    expect(last?.[8]).not.toEqual([2]);
    expect(inBandCodes(body)).toEqual([1096]);
  });

  it('stall_before_answer sends 200 and the ids frame, then nothing', async () => {
    const who = email('stall-before');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'stall_before_answer');
    const res = await s.generate(generateForm(s.at, 'x'));
    expect(res.status).toBe(200);
    const body = res.text().then(
      () => 'ended',
      () => 'cut',
    );
    expect(await Promise.race([body, sleep(300).then(() => 'silent')])).toBe('silent');
    expect(lastRecord(who)).toMatchObject({ fault: 'stall_before_answer', status: 200 });
  });

  it('reset cuts the connection before any response', async () => {
    const who = email('reset');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'reset');
    await expect(s.generate(generateForm(s.at, 'x'))).rejects.toThrow();
    expect(lastRecord(who)).toMatchObject({ fault: 'reset', status: 0 });
  });
});

describe('HTTP faults', () => {
  it.each([
    ['http_429', 429],
    ['http_500', 500],
    ['http_401', 401],
  ] as [Fault, number][])('%s answers HTTP %i', async (fault, status) => {
    const who = email(fault);
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, fault);
    expect((await s.generate(generateForm(s.at, 'x'))).status).toBe(status);
    expect(lastRecord(who)).toMatchObject({ fault, status });
  });

  it('sorry sends /app and StreamGenerate to /sorry, which answers 429', async () => {
    const who = email('sorry');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'sorry', { times: 2 });
    const page = await t.fetch('https://gemini.google.com/app', {
      headers: { cookie: s.jar.header() },
    });
    expect(page.status).toBe(302);
    const location = page.headers.get('location') ?? '';
    expect(location).toMatch(
      /^https:\/\/www\.google\.com\/sorry\/index\?continue=https%3A%2F%2Fgemini\.google\.com%2Fapp/,
    );
    expect((await t.fetch(location)).status).toBe(429);
    const gen = await s.generate(generateForm(s.at, 'x'));
    expect(gen.status).toBe(302);
    expect(lastRecord(who)).toMatchObject({ kind: 'generate', fault: 'sorry', status: 302 });
    const ok = await t.fetch('https://gemini.google.com/app', {
      headers: { cookie: s.jar.header() },
    });
    expect(ok.status).toBe(200);
  });
});

/** Reads the stream until `needle` has arrived. */
async function readUntil(reader: { read(): Promise<unknown> }, needle: string): Promise<void> {
  let text = '';
  while (!text.includes(needle)) {
    const chunk = (await reader.read()) as { value?: Uint8Array };
    text += Buffer.from(chunk.value ?? new Uint8Array()).toString('utf8');
  }
}

describe('stream faults', () => {
  it('stall sends the first snapshot, goes silent, and ends when the client aborts', async () => {
    const who = email('stall');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'stall');
    const controller = new AbortController();
    const res = await t.fetch(`${GENERATE_URL}?rt=c`, {
      method: 'POST',
      headers: { cookie: s.jar.header() },
      body: generateForm(s.at, 'stall please'),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await readUntil(reader, 'Echo');
    const more = await Promise.race([
      reader.read().then(() => 'data'),
      sleep(200).then(() => 'silent'),
    ]);
    expect(more).toBe('silent');
    expect(lastRecord(who)?.endedAt).toBeNull();
    controller.abort();
    await expect.poll(() => lastRecord(who)?.endedAt ?? null).not.toBeNull();
    expect(lastRecord(who)).toMatchObject({ fault: 'stall', status: 200 });
  });

  it('drop cuts the connection after a snapshot or two', async () => {
    const who = email('drop');
    const s = await signedIn(t, who);
    t.emulator.injectFault(who, 'drop');
    const res = await s.generate(generateForm(s.at, 'drop please'));
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(lastRecord(who)).toMatchObject({ fault: 'drop' });
    expect(lastRecord(who)?.endedAt).not.toBeNull();
  });
});

describe('fault bookkeeping', () => {
  it('is per account, counts times, and Infinity lasts until cleared', async () => {
    const who = email('times');
    const other = email('bystander');
    const s = await signedIn(t, who);
    const b = await signedIn(t, other);
    t.emulator.injectFault(who, 'transient', { times: Infinity });
    for (let i = 0; i < 3; i += 1) {
      expect(inBandCodes(await (await s.generate(generateForm(s.at, 'x'))).text())).toEqual([1013]);
    }
    expect(inBandCodes(await (await b.generate(generateForm(b.at, 'x'))).text())).toEqual([]);
    t.emulator.clearFaults(who);
    expect(inBandCodes(await (await s.generate(generateForm(s.at, 'x'))).text())).toEqual([]);
    t.emulator.injectFault(who, 'usage_limit', { times: 2 });
    t.emulator.clearFaults();
    expect(inBandCodes(await (await s.generate(generateForm(s.at, 'x'))).text())).toEqual([]);
    expect(() => t.emulator.injectFault(who, 'transient', { times: 0 })).toThrow(RangeError);
  });

  it('close() ends a stalled stream instead of hanging', async () => {
    const own = await startTestEmulator();
    const who = email('close');
    const s = await signedIn(own, who);
    own.emulator.injectFault(who, 'stall');
    const res = await s.generate(generateForm(s.at, 'x'));
    const body = res.text().catch(() => 'cut');
    await own.close();
    await own.close();
    expect(await body).toBe('cut');
  });
});
