/**
 * The gateway app around the proxy: API_KEYS, errors in OpenAI shape, /v1/models, /health,
 * /metrics and the dashboard routes.
 */
import { describe, expect, it } from 'vitest';
import { serverScope, type TestGateway } from './fake-servers.ts';
import { chatBody, metricValue, node } from './helpers.ts';

const scope = serverScope();
const gateway = scope.gateway;

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const postChat = (g: TestGateway, body: string, headers: Record<string, string> = {}) =>
  fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers, body });

describe('gateway app: auth', () => {
  it('requires a listed Bearer key on /v1/* only', async () => {
    const g = await gateway([node()], { apiKeys: ['sk-one-secret', 'sk-two-secret'] });
    const none = await fetch(`${g.url}/v1/models`);
    expect(none.status).toBe(401);
    const body = (await none.json()) as ErrorBody;
    expect(body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    expect(JSON.stringify(body)).not.toContain('sk-one');
    const wrong = await fetch(`${g.url}/v1/models`, {
      headers: { authorization: 'Bearer sk-one-secreT' },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${g.url}/v1/models`, {
      headers: { authorization: 'Bearer sk-two-secret' },
    });
    expect(right.status).toBe(200);
    const chat = await postChat(g, chatBody());
    expect(chat.status).toBe(401);
    const health = await fetch(`${g.url}/health`);
    expect(health.status).toBe(200);
    expect(Object.keys((await health.json()) as object).sort()).toEqual([
      'eligible',
      'status',
      'total',
    ]);
  });

  it('admin pages: 401 (Basic challenge) without a key, 403 for a user key, 200 for an admin key', async () => {
    const g = await gateway([node()], {
      apiKeys: ['sk-user-secret'],
      adminApiKeys: ['sk-admin-secret'],
    });
    const basic = `Basic ${Buffer.from('admin:sk-admin-secret').toString('base64')}`;
    for (const page of ['/', '/metrics', '/api/nodes', '/dashboard/nodes']) {
      const none = await fetch(`${g.url}${page}`);
      expect(none.status).toBe(401);
      // The console at / answers its sign-in form instead of a Basic challenge.
      expect(none.headers.get('www-authenticate')).toEqual(
        page === '/' ? null : expect.stringMatching(/^Basic /),
      );
      const user = await fetch(`${g.url}${page}`, {
        headers: { authorization: 'Bearer sk-user-secret' },
      });
      expect(user.status).toBe(403);
      expect(((await user.json()) as ErrorBody).error).toMatchObject({ type: 'permission_error' });
      for (const authorization of ['Bearer sk-admin-secret', basic]) {
        expect((await fetch(`${g.url}${page}`, { headers: { authorization } })).status).toBe(200);
      }
    }
    const full = await fetch(`${g.url}/health`, {
      headers: { authorization: 'Bearer sk-admin-secret' },
    });
    expect((await full.json()) as object).toHaveProperty('nodes');
    const models = await fetch(`${g.url}/v1/models`, {
      headers: { authorization: 'Bearer sk-admin-secret' },
    });
    expect(models.status).toBe(200);
  });

  it('is open when API_KEYS is empty', async () => {
    const g = await gateway([node()]);
    expect((await fetch(`${g.url}/v1/models`)).status).toBe(200);
  });
});

describe('gateway app: errors', () => {
  it('answers bad JSON, a non-object and an empty body with 400 in OpenAI shape', async () => {
    const g = await gateway([node({ nodeUrl: 'http://127.0.0.1:1' })]);
    for (const body of ['{"model":', '[1,2]', '"text"', '']) {
      const res = await postChat(g, body, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.type).toBe('invalid_request_error');
    }
  });

  it('answers a body over the limit with 413', async () => {
    const g = await gateway([node()], { bodyLimitBytes: 2048 });
    const res = await postChat(g, chatBody({ pad: 'x'.repeat(4096) }), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe('payload_too_large');
  });

  it('answers an unknown route with 404 in OpenAI shape', async () => {
    const g = await gateway([]);
    const res = await fetch(`${g.url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error.code).toBe('not_found');
  });

  it('answers 503 with Retry-After when no node can serve', async () => {
    const g = await gateway([node({ lastHeartbeatMs: Date.now() - 60_000 })]);
    const res = await postChat(g, chatBody());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as ErrorBody).error.code).toBe('no_node_available');
  });

  it('answers 429 with the soonest cooldown end when every node is cooling', async () => {
    const now = Date.now();
    const g = await gateway([
      node({ nodeUrl: 'http://a', cooldownUntilMs: now + 600_000 }),
      node({ nodeUrl: 'http://b', status: '429_LIMIT', cooldownUntilMs: now + 42_200 }),
    ]);
    const res = await postChat(g, chatBody());
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(42);
    expect(retryAfter).toBeLessThanOrEqual(43);
    expect(((await res.json()) as ErrorBody).error.type).toBe('rate_limit_error');
  });
});

describe('gateway app: models, health, metrics', () => {
  it("lists the union of the fresh nodes' models", async () => {
    const now = Date.now();
    const g = await gateway([
      node({
        nodeUrl: 'http://a',
        models: ['gemini-2.5-flash', 'gemini-2.5-pro'],
        createdAtMs: 1_700_000_000_000,
      }),
      node({
        nodeUrl: 'http://b',
        models: ['gemini-2.5-flash', 'gemini-3-pro'],
        loginState: 'login_required',
      }),
      node({ nodeUrl: 'http://c', models: ['stale-model'], lastHeartbeatMs: now - 60_000 }),
    ]);
    const res = await fetch(`${g.url}/v1/models`);
    const body = (await res.json()) as {
      object: string;
      data: { id: string; object: string; created: number; owned_by: string }[];
    };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual([
      'gemini-2.5-flash',
      'gemini-2.5-pro',
      'gemini-3-pro',
    ]);
    expect(body.data[0]).toEqual({
      id: 'gemini-2.5-flash',
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'google',
    });
    const one = await fetch(`${g.url}/v1/models/gemini-3-pro`);
    expect(((await one.json()) as { id: string }).id).toBe('gemini-3-pro');
    const missing = await fetch(`${g.url}/v1/models/stale-model`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.code).toBe('model_not_found');
  });

  it('reports nodes on /health', async () => {
    const now = Date.now();
    const g = await gateway([
      node({ nodeUrl: 'http://a', workerId: 'w-a', account: 'acct-a' }),
      node({
        nodeUrl: 'http://b',
        cooldownUntilMs: now + 30_000,
        cooldownReason: 'quota',
        status: '429_LIMIT',
      }),
    ]);
    const body = (await (await fetch(`${g.url}/health`)).json()) as {
      status: string;
      total: number;
      eligible: number;
      nodes: {
        nodeUrl: string;
        workerId: string;
        state: string;
        cooldownRemainingMs: number;
        cooldownReason: string;
      }[];
    };
    expect(body).toMatchObject({ status: 'ok', total: 2, eligible: 1 });
    expect(body.nodes[0]).toMatchObject({
      nodeUrl: 'http://a',
      workerId: 'w-a',
      state: 'eligible',
    });
    expect(body.nodes[1]).toMatchObject({ state: 'cooling', cooldownReason: 'quota' });
    expect(body.nodes[1]?.cooldownRemainingMs).toBeGreaterThan(25_000);
  });

  it('is ready once it has a node table to route on, not before it, nor after it expired', async () => {
    const g = await gateway([]);
    const ready = await fetch(`${g.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reason: null });
    g.setSnapshot({ nodes: [], fetchedAtMs: 0, error: 'connect ECONNREFUSED' });
    expect(await (await fetch(`${g.url}/ready`)).json()).toEqual({
      ready: false,
      reason: 'registry_not_read',
    });
    g.setSnapshot({
      nodes: [node()],
      fetchedAtMs: Date.now() - 600_000,
      error: 'x',
      expired: true,
    });
    const stale = await fetch(`${g.url}/ready`);
    expect(stale.status).toBe(503);
    expect(((await stale.json()) as { reason: string }).reason).toBe('registry_stale');
  });

  it('shows how old the node table is, and refuses with a clear 503 once it expired', async () => {
    const g = await gateway([node()]);
    const fetchedAtMs = Date.now() - 90_000;
    const down = { nodes: [node()], fetchedAtMs, error: 'connect ECONNREFUSED 10.1.2.3:5432' };
    g.setSnapshot(down);
    const health = (await (await fetch(`${g.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'registry_unreachable', registryExpired: false });
    expect(health['registryAgeMs']).toBeGreaterThanOrEqual(90_000);
    expect(JSON.stringify(health)).not.toContain('10.1.2.3');
    const age = await metricValue(g.metrics, 'gateway_node_table_age_seconds');
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(120);

    g.setSnapshot({ ...down, expired: true });
    const res = await postChat(g, chatBody());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('10');
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('registry_unavailable');
    expect(body.error.message).toMatch(/node table from PostgreSQL for 9\d s/);
    const expired = (await (await fetch(`${g.url}/health`)).json()) as Record<string, unknown>;
    expect(expired['registryExpired']).toBe(true);
  });

  it('exposes prom-client metrics: requests by status, node states', async () => {
    const now = Date.now();
    const g = await gateway([
      node({ nodeUrl: 'http://a' }),
      node({ nodeUrl: 'http://b', cooldownUntilMs: now + 30_000 }),
      node({ nodeUrl: 'http://c', lastHeartbeatMs: now - 60_000 }),
    ]);
    await fetch(`${g.url}/v1/models`);
    await postChat(g, '{bad');
    const res = await fetch(`${g.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('gateway_nodes{state="eligible"} 1');
    expect(text).toContain('gateway_nodes{state="cooling"} 1');
    expect(text).toContain('gateway_nodes{state="stale"} 1');
    expect(text).toContain(
      'gateway_node_eligible{node="http://b",worker_id="w1",state="cooling"} 0',
    );
    expect(text).toContain(
      'gateway_node_eligible{node="http://a",worker_id="w1",state="eligible"} 1',
    );
    expect(text).toContain('gateway_node_in_flight{node="http://a"} 0');
    expect(text).toContain('gateway_node_current_tasks{node="http://a"} 0');
    expect(text).toContain('# TYPE gateway_time_to_first_byte_seconds histogram');
    expect(text).toContain('# TYPE gateway_request_duration_seconds histogram');
    expect(
      await metricValue(g.metrics, 'gateway_requests_total', {
        route: '/v1/models',
        status: '200',
      }),
    ).toBe(1);
    expect(
      await metricValue(g.metrics, 'gateway_requests_total', {
        route: '/v1/chat/completions',
        status: '400',
      }),
    ).toBe(1);
  });

  it('serves the console sign-in at / under a CSP with nothing inline, and the table fragment', async () => {
    const g = await gateway([node({ nodeUrl: 'http://a', workerId: '<b>w</b>' })]);
    const res = await fetch(`${g.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<style>/);
    const fragment = await (await fetch(`${g.url}/dashboard/nodes`)).text();
    expect(fragment).toContain('data-node="http://a"');
    expect(fragment).toContain('&lt;b&gt;w&lt;/b&gt;');
    expect(fragment).not.toContain('<script');
  });
});
