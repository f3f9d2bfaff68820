/**
 * The floor under the worker, for the bench: the smallest Node server that answers an OpenAI chat
 * request through the Gemini client (node:http, the body parsed, the prompt sent, the answer
 * written as JSON or as SSE frames) and nothing else: no key, no queue, no account guard, no
 * conversation, no logs. What the worker adds over it is ours; what it adds over a direct call is
 * Node's HTTP hop.
 *
 * `node --import tsx bench/bare-worker.ts <port> <cookie file> <host resolver rules>`
 */
import http from 'node:http';
import { FileCookieSource } from '../src/browser/index.ts';
import { GeminiClient, createHttpClient, findModel } from '../src/gemini/index.ts';
import { createLogger } from '../src/logging.ts';

const [port, cookieFile, rules] = process.argv.slice(2);
const model = findModel('gemini-2.5-flash')!;
const client = new GeminiClient({
  http: createHttpClient({ hostResolverRules: rules! }),
  cookies: new FileCookieSource(cookieFile!),
  logger: createLogger({ silent: true }),
  stallTimeoutMs: 30_000,
});

interface ChatBody {
  readonly stream?: boolean;
  readonly messages: readonly { readonly content: string }[];
}

const frame = (content: string): string =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;

async function answer(body: ChatBody, res: http.ServerResponse): Promise<void> {
  const events = client.generate({ prompt: body.messages.at(-1)?.content ?? '', model });
  if (!body.stream) {
    let text = '';
    for await (const ev of events) {
      text += ev.type === 'text' ? ev.delta : '';
    }
    const message = { role: 'assistant', content: text };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message }] }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for await (const ev of events) {
    if (ev.type === 'text') {
      res.write(frame(ev.delta));
    }
  }
  res.end('data: [DONE]\n\n');
}

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answer(JSON.parse(Buffer.concat(chunks).toString()) as ChatBody, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
