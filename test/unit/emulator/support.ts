/**
 * Test helpers: an emulator on port 0 with a temp certDir, an undici fetch that maps every Google
 * host to it and trusts its CA (as the worker does with host rules + NODE_EXTRA_CA_CERTS), a tiny
 * cookie jar, and a frame reader written independently of src/emulator/frames.ts.
 */
import { afterAll, beforeAll } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, buildConnector, fetch, type RequestInit, type Response } from 'undici';
import { Emulator, type EmulatorOptions } from '../../../src/emulator/index.ts';

export interface TestEmulator {
  emulator: Emulator;
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  close(): Promise<void>;
}

/**
 * One emulator for a whole test file: started before its tests, closed after them. The object
 * reaches the running emulator at call time.
 */
export function useTestEmulator(options: Partial<EmulatorOptions> = {}): TestEmulator {
  let t: TestEmulator | null = null;
  beforeAll(async () => {
    t = await startTestEmulator(options);
  });
  afterAll(async () => {
    await t?.close();
  });
  const running = (): TestEmulator => {
    if (!t) {
      throw new Error('the test emulator is used outside the tests of its file');
    }
    return t;
  };
  return {
    get emulator() {
      return running().emulator;
    },
    fetch: (url, init) => running().fetch(url, init),
    close: () => running().close(),
  };
}

/** Starts an emulator with a fresh certDir; `close` stops it and removes the dir. */
export async function startTestEmulator(
  options: Partial<EmulatorOptions> = {},
): Promise<TestEmulator> {
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-emu-test-'));
  const emulator = await Emulator.start({ chunkDelayMs: 1, ...options, certDir });
  const ca = fs.readFileSync(emulator.caCertPath, 'utf8');
  const base = buildConnector({ ca });
  const agent = new Agent({
    connect: (opts, cb) =>
      base(
        {
          ...opts,
          hostname: '127.0.0.1',
          port: String(emulator.port),
          // SNI carries names only; an IP literal is left out, as browsers do.
          ...(net.isIP(opts.hostname) ? {} : { servername: opts.hostname }),
        },
        cb,
      ),
  });
  return {
    emulator,
    fetch: (url, init = {}) => fetch(url, { redirect: 'manual', ...init, dispatcher: agent }),
    async close() {
      await emulator.close();
      await agent.destroy();
      fs.rmSync(certDir, { recursive: true, force: true });
    },
  };
}

/** Cookies by name, fed from Set-Cookie lines; enough for one .google.com jar. */
export class CookieJar {
  readonly values = new Map<string, string>();

  constructor(cookies: { name: string; value: string }[] = []) {
    cookies.forEach((c) => this.values.set(c.name, c.value));
  }

  absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') {
        this.values.delete(name);
      } else {
        this.values.set(name, value);
      }
    }
  }

  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface ParsedFrame {
  declaredLength: number;
  json: string;
  envelopes: unknown[][];
}

/** Splits a `rt=c` body into frames, re-counting each length in UTF-16 units. */
export function readFrames(body: string): { prefix: string; frames: ParsedFrame[] } {
  const prefix = body.slice(0, 6);
  const frames: ParsedFrame[] = [];
  let at = 6;
  while (at < body.length) {
    const nl = body.indexOf('\n', at);
    const declaredLength = Number(body.slice(at, nl));
    // N counts "\n" + json + "\n", starting at the newline after the number.
    const chunk = body.slice(nl, nl + declaredLength);
    if (!chunk.startsWith('\n') || !chunk.endsWith('\n')) {
      throw new Error(`frame at ${at} is not delimited by its declared length ${declaredLength}`);
    }
    const json = chunk.slice(1, -1);
    frames.push({ declaredLength, json, envelopes: JSON.parse(json) as unknown[][] });
    at = nl + declaredLength;
  }
  return { prefix, frames };
}

/** The inner arrays of every wrb.fr payload envelope, in order. */
export function payloads(frames: ParsedFrame[]): unknown[][] {
  return frames.flatMap((f) =>
    f.envelopes
      .filter((e) => e[0] === 'wrb.fr' && typeof e[2] === 'string')
      .map((e) => JSON.parse(e[2] as string) as unknown[]),
  );
}

/** A StreamGenerate form body in the current 69-slot shape. */
export function generateForm(
  at: string,
  prompt: string,
  chat: { cid: string; rid: string; rcid: string; ctx?: string } | null = null,
  files: [string, string][] = [],
): string {
  const inner: unknown[] = new Array<unknown>(69).fill(null);
  inner[0] = [
    prompt,
    0,
    null,
    files.length ? files.map(([id, name]) => [[id], name]) : null,
    null,
    null,
    0,
  ];
  inner[1] = ['en'];
  inner[2] = chat
    ? [chat.cid, chat.rid, chat.rcid, null, null, null, null, null, null, chat.ctx ?? '']
    : ['', '', '', null, null, null, null, null, null, ''];
  inner[7] = [1];
  inner[59] = 'A1B2C3D4-0000-4000-8000-000000000000';
  const fReq = JSON.stringify([null, JSON.stringify(inner)]);
  return new URLSearchParams({ at, 'f.req': fReq }).toString();
}

/** The signed-in app page's `at` token. */
export function scrapeAt(html: string): string | null {
  return /"SNlM0e":\s*"(.*?)"/.exec(html)?.[1] ?? null;
}

export const GENERATE_URL =
  'https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';

export interface SignedIn {
  jar: CookieJar;
  at: string;
  /** POSTs StreamGenerate with this session; `query` defaults to `rt=c`. */
  generate(form: string, headers?: Record<string, string>, query?: string): Promise<Response>;
}

/** Creates an account through the API and scrapes its `at` token from /app. */
export async function signedIn(t: TestEmulator, email: string): Promise<SignedIn> {
  const jar = new CookieJar(t.emulator.createAccount(email).cookies);
  const page = await t.fetch('https://gemini.google.com/app', {
    headers: { cookie: jar.header() },
  });
  const at = scrapeAt(await page.text());
  if (!at) {
    throw new Error('no SNlM0e on the signed-in page');
  }
  return {
    jar,
    at,
    generate: (form, headers = {}, query = 'hl=en&_reqid=12345&rt=c') =>
      t.fetch(`${GENERATE_URL}?${query}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
          cookie: jar.header(),
          ...headers,
        },
        body: form,
      }),
  };
}
