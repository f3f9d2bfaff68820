/**
 * Ids a worker issued, through the gateway: /upload streamed to one node with its file ids bound
 * there (and a chat naming them sent after them), /conversations/:id and /images/... asked of
 * the node holding them first, then the other live nodes; Authorization passed untouched.
 */
import { describe, expect, it } from 'vitest';
import { answerJson, post, serverScope } from './fake-servers.ts';
import { chatBody, node } from './helpers.ts';

const scope = serverScope();

/** A worker that answers /upload with `files`, and chat with a completion naming itself. */
function uploadWorker(name: string, files: string[]) {
  return scope.worker((req, res) => {
    if (req.url === '/upload') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: true, files }));
      return;
    }
    answerJson(`from ${name}`)(req, res);
  });
}

/** A worker holding the given conversations and images (GET and DELETE), 404 for the rest. */
function holdingWorker(conversations: string[], images: string[] = []) {
  const held = new Set(conversations);
  return scope.worker((req, res) => {
    const [, kind, ...rest] = (req.url ?? '').split('/');
    const id = rest.join('/');
    const found = kind === 'conversations' ? held.has(id) : images.includes(id);
    if (!found) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{}}');
      return;
    }
    if (req.method === 'DELETE') {
      held.delete(id);
    }
    const body = kind === 'images' ? 'PNG' : JSON.stringify({ conversation_id: id });
    res.writeHead(200, { 'content-type': kind === 'images' ? 'image/png' : 'application/json' });
    res.end(body);
  });
}

const multipart = (boundary: string) =>
  [
    `--${boundary}`,
    'Content-Disposition: form-data; name="files"; filename="notes.txt"',
    'Content-Type: text/plain',
    '',
    'some notes',
    `--${boundary}--`,
    '',
  ].join('\r\n');

describe('gateway: /upload', () => {
  it('streams the body to one node untouched, binds its file ids, and sends chats naming them there', async () => {
    const a = await uploadWorker('a', ['uploads/20260101000000_abcd1234_notes.txt']);
    const b = await uploadWorker('b', []);
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', weight: 2 }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    const boundary = 'xyzBOUNDARY';
    const res = await fetch(`${g.url}/upload`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        authorization: 'Bearer sk-user-1',
      },
      body: multipart(boundary),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      files: ['uploads/20260101000000_abcd1234_notes.txt'],
    });
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]?.body).toBe(multipart(boundary));
    expect(a.seen[0]?.headers['content-type']).toBe(`multipart/form-data; boundary=${boundary}`);
    expect(a.seen[0]?.headers.authorization).toBe('Bearer sk-user-1');
    expect(g.bindings.map.get('file:20260101000000_abcd1234_notes.txt')).toEqual({
      nodeUrl: a.url,
      account: 'a',
    });
    // b is now the better choice by weight; the files decide.
    g.setNodes([
      node({ nodeUrl: a.url, account: 'a' }),
      node({ nodeUrl: b.url, account: 'b', weight: 5 }),
    ]);
    const chat = await post(g, chatBody({ files: ['uploads/20260101000000_abcd1234_notes.txt'] }));
    expect(
      ((await chat.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message
        .content,
    ).toBe('from a');
    // A bare name in an image part counts too.
    const image = await post(
      g,
      chatBody({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: '20260101000000_abcd1234_notes.txt' } },
            ],
          },
        ],
      }),
    );
    expect(
      ((await image.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message
        .content,
    ).toBe('from a');
    expect(b.seen).toHaveLength(0);
  });

  it('answers a chat naming files on a cooling node with its 429, never with another node', async () => {
    const a = await uploadWorker('a', []);
    const b = await uploadWorker('b', []);
    const g = await scope.gateway([
      node({ nodeUrl: a.url, account: 'a', cooldownUntilMs: Date.now() + 60_000 }),
      node({ nodeUrl: b.url, account: 'b' }),
    ]);
    g.bindings.map.set('file:x.txt', { nodeUrl: a.url, account: 'a' });
    const res = await post(g, chatBody({ files: ['uploads/x.txt'] }));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(50);
    expect([a.seen.length, b.seen.length]).toEqual([0, 0]);
  });

  it('answers 503 when no node can take the upload', async () => {
    const g = await scope.gateway([node({ nodeUrl: 'http://127.0.0.1:9', lastHeartbeatMs: 0 })]);
    const res = await fetch(`${g.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: multipart('x'),
    });
    expect(res.status).toBe(503);
  });
});

describe('gateway: /conversations/:id and /images/...', () => {
  it('asks the bound node first, finds an unbound id on another live node, and 404s the rest', async () => {
    const a = await holdingWorker(['conv-a']);
    const b = await holdingWorker(['conv-b']);
    const g = await scope.gateway([node({ nodeUrl: a.url }), node({ nodeUrl: b.url })]);
    g.bindings.map.set('conv-b', { nodeUrl: b.url, account: 'a1' });
    const bound = await fetch(`${g.url}/conversations/conv-b`, {
      headers: { authorization: 'Bearer sk-user-2' },
    });
    expect(bound.status).toBe(200);
    expect(await bound.json()).toEqual({ conversation_id: 'conv-b' });
    expect(a.seen).toHaveLength(0);
    expect(b.seen[0]?.headers.authorization).toBe('Bearer sk-user-2');
    // Unbound (a binding lost): found by asking the live nodes.
    expect((await fetch(`${g.url}/conversations/conv-a`)).status).toBe(200);
    const missing = await fetch(`${g.url}/conversations/none`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe(
      'conversation_id',
    );
    expect((await fetch(`${g.url}/conversations/..%2Fetc`)).status).toBe(404);
  });

  it('deletes a conversation on every node holding it', async () => {
    const a = await holdingWorker(['moved']);
    const b = await holdingWorker(['moved']);
    const g = await scope.gateway([node({ nodeUrl: a.url }), node({ nodeUrl: b.url })]);
    const res = await fetch(`${g.url}/conversations/moved`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect([a.seen.length, b.seen.length]).toEqual([1, 1]);
    expect((await fetch(`${g.url}/conversations/moved`, { method: 'DELETE' })).status).toBe(404);
  });

  it('binds the images an answer links to its node, and asks that node first', async () => {
    const link = '202601/20260101/1767225600000_abcd1234.png';
    const images = await holdingWorker([], [link]);
    const a = await scope.worker((req, res) => {
      if (req.method === 'GET') {
        images.seen.length = 0;
        return void fetch(`${images.url}${req.url}`).then(async (r) => {
          res.writeHead(r.status, { 'content-type': String(r.headers.get('content-type')) });
          res.end(await r.text());
        });
      }
      answerJson(`here: ![image](http://gw/images/${link})`)(req, res);
    });
    const b = await holdingWorker([]);
    // b is listed first: without the binding it would be asked first.
    const g = await scope.gateway([node({ nodeUrl: b.url }), node({ nodeUrl: a.url, weight: 9 })]);
    await post(g, chatBody());
    await g.bindings.waitForSaves(1);
    expect(g.bindings.map.get(`image:${link}`)?.nodeUrl).toBe(a.url);
    const res = await fetch(`${g.url}/images/${link}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(await res.text()).toBe('PNG');
    expect(b.seen).toHaveLength(0);
    expect((await fetch(`${g.url}/images/202601/20260101/none.png`)).status).toBe(404);
    expect(b.seen).toHaveLength(1);
  });
});
