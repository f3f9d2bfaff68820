/**
 * GeminiClient.generate through a send gate: each failure is reported at the stage where it
 * happened, and a prompt goes upstream at most once.
 */
import { describe, expect, it } from 'vitest';
import type { SendGate, SendOutcome } from '../../../src/gemini/types.ts';
import { UpstreamOutcomeUnknownError } from '../../../src/errors.ts';
import {
  collect,
  fake,
  geminiError,
  makeClient,
  request,
  useClientHarness,
} from './support/client-harness.ts';
import { STREAM_PATH } from './support/fake-gemini.ts';
import { body, errorEnvelope, inner, trailer, wrb } from './support/wire-fixtures.ts';

useClientHarness();

describe('GeminiClient.generate: send stages (at most once upstream)', () => {
  /** A gate that records outcomes; `resend` says whether one more send is allowed. */
  function recordingGate(resend = true, refuse = false): SendGate & { outcomes: SendOutcome[] } {
    const outcomes: SendOutcome[] = [];
    const refusal = new UpstreamOutcomeUnknownError('already sent');
    return {
      outcomes,
      open: () => (refuse ? Promise.reject(refusal) : Promise.resolve()),
      canResend: () => resend,
      close: (o) => outcomes.push(o),
    };
  }

  it.each([
    ['HTTP 500 before any body', 'http_status', 'http_error'],
    ['1013 before any candidate', 'rejected_before_generation', 'rejected_before_generation'],
    ['1096 before any candidate', 'after_accept', 'cut_after_accept'],
    ['a body cut after text', 'after_accept', 'cut_after_accept'],
  ] as const)('%s: stage %s, outcome %s', async (what, stage, outcome) => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      if (what.startsWith('HTTP')) {
        res.writeHead(500).end();
      } else if (what.startsWith('1013')) {
        res.end(body([errorEnvelope(1013)], ...trailer(3)));
      } else if (what.startsWith('1096')) {
        res.end(body([errorEnvelope(1096)], ...trailer(3)));
      } else {
        res.end(body([wrb(inner({ text: 'Half of it', status: 1 }))]));
      }
    });
    const gate = recordingGate();
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(geminiError(error).stage).toBe(stage);
    expect(gate.outcomes).toEqual([outcome]);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
  });

  it('a stall after 200 OK, before any candidate, is after_accept', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(200);
      res.write(`)]}'\n\n`);
    });
    const gate = recordingGate();
    // Long enough for the session to load on a busy machine; the answer never comes anyway.
    const client = makeClient(1500);
    await client.init();
    const { error } = await collect(client.generate(request({ gate })));
    expect(geminiError(error)).toMatchObject({ kind: 'transient', stage: 'after_accept' });
    expect(gate.outcomes).toEqual(['cut_after_accept']);
  });

  it('no response headers within the stall timeout is no_response, never proven', async () => {
    fake.on('POST', STREAM_PATH, () => {
      // Never answers.
    });
    const gate = recordingGate();
    // Long enough for the session to load on a busy machine; the answer never comes anyway.
    const client = makeClient(1500);
    await client.init();
    const { error } = await collect(client.generate(request({ gate })));
    expect(geminiError(error).stage).toBe('no_response');
    expect(gate.outcomes).toEqual(['no_response']);
  });

  it('a complete answer is accepted, once', async () => {
    const gate = recordingGate();
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(error).toBeNull();
    expect(gate.outcomes).toEqual(['accepted']);
  });

  it('does not heal a 401 by sending again when the gate has no send left', async () => {
    fake.on('POST', STREAM_PATH, (_req, res) => {
      res.writeHead(401).end();
    });
    const gate = recordingGate(false);
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(geminiError(error)).toMatchObject({ kind: 'auth', stage: 'http_status' });
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
    expect(gate.outcomes).toEqual(['http_error']);
  });

  it('sends nothing when the gate refuses (the job was sent already)', async () => {
    const gate = recordingGate(true, true);
    const { error } = await collect(makeClient().generate(request({ gate })));
    expect(error).toBeInstanceOf(UpstreamOutcomeUnknownError);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(0);
    expect(gate.outcomes).toEqual([]);
  });

  it('loads no session before its gate is ready, and then only one', async () => {
    const seen: string[] = [];
    let ready!: () => void;
    const readiness = new Promise<void>((resolve) => (ready = resolve));
    const gate = {
      ...recordingGate(),
      ready: () => readiness.then(() => void seen.push('ready')),
    };
    const answered = collect(makeClient().generate(request({ gate })));
    await new Promise((r) => setTimeout(r, 50));
    // Nothing at all, not even the preflight: loading a session is a Google touch.
    expect(fake.requests).toHaveLength(0);
    ready();
    const { error } = await answered;
    expect(error).toBeNull();
    expect(seen).toEqual(['ready']);
    expect(fake.seen('GET', 'gemini.google.com/app')).toHaveLength(1);
    expect(fake.seen('POST', STREAM_PATH)).toHaveLength(1);
  });
});
