/**
 * GeminiClient.generate cut short: a truncated or stalled body, an abort, a consumer that stops,
 * a refused connection and close() in flight; each ends with a clear error and releases the
 * upstream request.
 */
import { describe, expect, it } from 'vitest';
import { GeminiError } from '../../../src/gemini/errors.ts';
import type { GenerateEvent } from '../../../src/gemini/types.ts';
import {
  collect,
  fake,
  geminiError,
  makeClient,
  request,
  text,
  useClientHarness,
} from './support/client-harness.ts';
import { STREAM_PATH } from './support/fake-gemini.ts';
import { body, frame, inner, wrb } from './support/wire-fixtures.ts';

useClientHarness();

/** StreamGenerate answers one snapshot of `partial`, then hangs; says whether it saw the close. */
function hangAfter(partial: string): () => boolean {
  let closed = false;
  fake.on('POST', STREAM_PATH, (_req, res) => {
    res.on('close', () => {
      closed = true;
    });
    res.writeHead(200);
    res.write(`)]}'\n\n${frame([wrb(inner({ text: partial, status: 1 }))])}`);
  });
  return () => closed;
}

describe('GeminiClient.generate: a stream cut short', () => {
  it('never retries once text was yielded: a truncated body is transient', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.end(body([wrb(inner({ text: 'Half of it', status: 1 }))]));
    });
    const { events, error } = await collect(makeClient().generate(request()));
    expect(text(events)).toBe('Half of it');
    expect(geminiError(error).kind).toBe('transient');
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
  });

  it('fails as transient "stalled" when upstream goes silent', async () => {
    const closed = hangAfter('Hel');
    // The session loads first, so a busy machine cannot spend the stall timeout on it.
    const client = makeClient(600);
    await client.init();
    const { events, error } = await collect(client.generate(request()));
    expect(text(events)).toBe('Hel');
    expect(geminiError(error).kind).toBe('transient');
    expect(geminiError(error).message).toMatch(/stalled/);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
    await expect.poll(closed).toBe(true);
  });

  it('stops on abort with the abort reason and closes the upstream request', async () => {
    const closed = hangAfter('Streaming');
    const controller = new AbortController();
    const events: GenerateEvent[] = [];
    const error = await (async () => {
      try {
        for await (const e of makeClient().generate(request({ signal: controller.signal }))) {
          events.push(e);
          if (e.type === 'text') {
            controller.abort();
          }
        }
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(text(events)).toBe('Streaming');
    expect(error).toMatchObject({ name: 'AbortError' });
    await expect.poll(closed).toBe(true);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { error } = await collect(
      makeClient().generate(request({ signal: AbortSignal.abort() })),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(0);
  });

  it('releases the upstream request when the consumer stops early', async () => {
    const closed = hangAfter('First');
    for await (const e of makeClient().generate(request())) {
      if (e.type === 'text') {
        break;
      }
    }
    await expect.poll(closed).toBe(true);
  });

  it('maps a refused connection to transient', async () => {
    const client = makeClient();
    await fake.close();
    const { error } = await collect(client.generate(request()));
    expect(geminiError(error).kind).toBe('transient');
    expect(geminiError(error).message).toMatch(/Network error|ECONNREFUSED/);
  });

  it('close() aborts a call in flight', async () => {
    hangAfter('Wait');
    const client = makeClient();
    const gen = client.generate(request());
    const first = await gen.next();
    expect(first.value).toMatchObject({ type: 'metadata' });
    await client.close();
    await client.close();
    const rest = await collect(gen);
    expect(rest.error).toBeInstanceOf(GeminiError);
    expect((rest.error as GeminiError).message).toMatch(/closed/);
  });
});
