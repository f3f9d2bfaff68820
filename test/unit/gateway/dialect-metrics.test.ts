/** The dialects in the gateway's /metrics and /api/nodes, and Gemini's model list. */
import { describe, expect, it } from 'vitest';
import { serverScope } from './fake-servers.ts';
import { metricValue, node } from './helpers.ts';
import { anthropicBody, googleAnswer, message, send } from './dialect-fixtures.ts';

const scope = serverScope();

describe('dialects in the metrics', () => {
  it('labels requests by dialect in /metrics and counts them in /api/nodes', async () => {
    const a = await scope.worker((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/v1beta') ? googleAnswer('g') : message('m'));
    });
    const g = await scope.gateway([node({ nodeUrl: a.url })], {
      adminApiKeys: ['sk-admin-dialects'],
    });
    const auth = { authorization: 'Bearer sk-admin-dialects' };
    await send(g, '/v1/messages', anthropicBody([{ role: 'user', content: 'x' }]), auth);
    await send(g, '/v1beta/models/g:generateContent', JSON.stringify({ contents: [] }), auth);
    await send(g, '/v1beta/models/g:generateContent', '{bad', auth);
    await fetch(`${g.url}/v1beta/models`, { headers: auth });
    const counts = async () =>
      (
        (await (await fetch(`${g.url}/api/nodes`, { headers: auth })).json()) as {
          dialects: unknown;
        }
      ).dialects;
    // Requests are counted when their connection closes, which may follow the client's read.
    for (
      let i = 0;
      i < 100 && JSON.stringify(await counts()).includes('"requests":3') === false;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await counts()).toEqual({
      openai: { requests: 0, errors: 0 },
      anthropic: { requests: 1, errors: 0 },
      google: { requests: 3, errors: 1 },
    });
    expect(
      await metricValue(g.metrics, 'gateway_requests_total', {
        dialect: 'anthropic',
        route: '/v1/messages',
        status: '200',
      }),
    ).toBe(1);
    expect(
      await metricValue(g.metrics, 'gateway_requests_total', {
        dialect: 'google',
        route: '/v1beta/models/:model:generateContent',
      }),
    ).toBe(2);
    const text = await (await fetch(`${g.url}/metrics`, { headers: auth })).text();
    expect(text).toMatch(/gateway_requests_total\{[^}]*dialect="google"/);
  });

  it("serves Gemini's model list from the nodes' models", async () => {
    const g = await scope.gateway([node({ models: ['gemini-2.5-pro', 'gemini-2.5-flash'] })]);
    const list = (await (await fetch(`${g.url}/v1beta/models`)).json()) as {
      models: { name: string }[];
    };
    expect(list.models.map((m) => m.name)).toEqual([
      'models/gemini-2.5-flash',
      'models/gemini-2.5-pro',
    ]);
    const one = await fetch(`${g.url}/v1beta/models/gemini-2.5-pro`);
    expect(await one.json()).toMatchObject({
      name: 'models/gemini-2.5-pro',
      supportedGenerationMethods: expect.arrayContaining(['generateContent']) as unknown,
    });
    const missing = await fetch(`${g.url}/v1beta/models/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { status: 'NOT_FOUND' } });
  });
});
