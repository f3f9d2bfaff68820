/**
 * The gateway's side of the dialects, by raw fetch (no SDK): a node that answers 429 before
 * sending anything is failed over in both dialects, Anthropic's and Gemini's streams are relayed
 * as they come (not buffered), and both dialects show in the gateway's and the worker's /metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { untilHealth, type GatewayStack } from '../support/gateway-stack.ts';

/** What the gateway cases need of the shared stack. */
export interface GatewayCaseDeps {
  readonly stack: () => GatewayStack;
  readonly apiKey: string;
  readonly adminKey: string;
}

/** A node that refuses every request with 429 and `x-upstream-sent: false`, as a cooling worker does. */
async function startRefusingNode(): Promise<{
  url: string;
  seen: string[];
  close(): Promise<void>;
}> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    res.writeHead(429, {
      'content-type': 'application/json',
      'retry-after': '30',
      'x-upstream-sent': 'false',
    });
    res.end(
      JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'cooling' } }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Arrival times (ms) of each body chunk that holds `marker`, and the whole text. */
async function readTimed(
  res: Response,
  marker: RegExp,
): Promise<{ text: string; times: number[] }> {
  const decoder = new TextDecoder();
  let text = '';
  const times: number[] = [];
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    const piece = decoder.decode(chunk, { stream: true });
    text += piece;
    if (marker.test(piece)) {
      times.push(performance.now());
    }
  }
  return { text, times };
}

/** Registers the gateway cases (they run against the gateway only). */
export function gatewayCases(deps: GatewayCaseDeps): void {
  const gateway = () => deps.stack().url;
  const anthropic = (body: Record<string, unknown>) =>
    fetch(`${gateway()}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': deps.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', max_tokens: 256, ...body }),
    });
  const google = (action: string, body: Record<string, unknown>, query = '') =>
    fetch(`${gateway()}/v1beta/models/gemini-2.5-flash:${action}?key=${deps.apiKey}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const tag = (what: string) => `${what} ${Math.random().toString(36).slice(2, 8)}`;

  describe('the gateway in every dialect', () => {
    it('fails an Anthropic and a Gemini request over from a node that answered 429 before sending', async () => {
      const refusing = await startRefusingNode();
      const { pool } = deps.stack();
      // Weight 5 makes it the first choice; its own account, so the real one stays eligible.
      await pool.query(
        `insert into gemini_service_nodes (node_url, worker_id, weight, status, last_heartbeat,
           created_at, dispatched_tasks, current_tasks, account, login_state, version, models,
           queue_waiting)
         values ($1, 'refusing', 5, 'HEALTHY', now(), now(), 0, 0, 'refusing@example.test',
           'logged_in', '0.1.0', $2, 0)`,
        [refusing.url, ['gemini-2.5-flash']],
      );
      try {
        await untilHealth(gateway(), (h) => h.eligible >= 2);
        const first = await anthropic({ messages: [{ role: 'user', content: tag('failover') }] });
        expect(first.status).toBe(200);
        expect(await first.json()).toMatchObject({ type: 'message', role: 'assistant' });
        const second = await google('generateContent', {
          contents: [{ role: 'user', parts: [{ text: tag('failover') }] }],
        });
        expect(second.status).toBe(200);
        expect(await second.json()).toMatchObject({ candidates: [{ finishReason: 'STOP' }] });
        // Each went to the refusing node first, then to the worker; the key never in a URL.
        expect(refusing.seen).toEqual([
          '/v1/messages',
          '/v1beta/models/gemini-2.5-flash:generateContent',
        ]);
        const metrics = await (
          await fetch(`${gateway()}/metrics`, {
            headers: { authorization: `Bearer ${deps.adminKey}` },
          })
        ).text();
        expect(metrics).toMatch(/gateway_failovers_total\{reason="status_429"\} [2-9]/);
      } finally {
        await pool.query('delete from gemini_service_nodes where node_url = $1', [refusing.url]);
        await refusing.close();
        await untilHealth(gateway(), (h) => h.eligible === 1);
      }
    });

    it('relays an Anthropic stream and a Gemini stream as they come, not when they end', async () => {
      const { emulator } = deps.stack();
      emulator.setOptions({ chunkDelayMs: 250 });
      try {
        const claude = await readTimed(
          await anthropic({ stream: true, messages: [{ role: 'user', content: tag('stream') }] }),
          /"text_delta"/,
        );
        expect(claude.text).toMatch(/event: message_stop\n/);
        const gemini = await readTimed(
          await google(
            'streamGenerateContent',
            {
              contents: [{ role: 'user', parts: [{ text: tag('stream') }] }],
            },
            '&alt=sse',
          ),
          /"text":"[^"]/,
        );
        expect(gemini.text).toContain('"finishReason":"STOP"');
        for (const { times } of [claude, gemini]) {
          // The emulator waits 250 ms between chunks: a relay that buffered would deliver them at once.
          expect(times.length).toBeGreaterThanOrEqual(2);
          expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(150);
        }
      } finally {
        emulator.setOptions({ chunkDelayMs: 10 });
      }
    }, 60_000);

    it("shows both dialects in the gateway's and the worker's /metrics", async () => {
      const auth = { authorization: `Bearer ${deps.adminKey}` };
      expect(
        (await anthropic({ messages: [{ role: 'user', content: tag('metrics') }] })).status,
      ).toBe(200);
      const gatewayMetrics = await (await fetch(`${gateway()}/metrics`, { headers: auth })).text();
      expect(gatewayMetrics).toMatch(
        /gateway_requests_total\{[^}]*route="\/v1\/messages"[^}]*dialect="anthropic"\} [1-9]/,
      );
      expect(gatewayMetrics).toMatch(/gateway_requests_total\{[^}]*dialect="google"\} [1-9]/);
      const worker = deps.stack().workers[0]!.worker.url;
      const workerMetrics = await (await fetch(`${worker}/metrics`, { headers: auth })).text();
      expect(workerMetrics).toMatch(
        /gk_http_requests_total\{[^}]*dialect="anthropic"[^}]*\} [1-9]/,
      );
      expect(workerMetrics).toMatch(/gk_http_requests_total\{[^}]*dialect="google"[^}]*\} [1-9]/);
      const nodes = (await (await fetch(`${gateway()}/api/nodes`, { headers: auth })).json()) as {
        dialects: Record<string, { requests: number }>;
      };
      expect(nodes.dialects['anthropic']?.requests).toBeGreaterThan(0);
      expect(nodes.dialects['google']?.requests).toBeGreaterThan(0);
    });
  });
}
