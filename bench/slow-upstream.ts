/**
 * A stand-in worker for the gateway's scale bench, in a process of its own: every POST is answered
 * with an OpenAI chat stream of CHUNKS chunks, one every INTERVAL ms, each stamped with the epoch
 * time it was written, so a client can tell how long the gateway held it. A real worker serves one
 * generation per account at a time; this one holds any number of slow streams at once.
 *
 * `node --import tsx bench/slow-upstream.ts <port> <chunks> <intervalMs>`
 */
import http from 'node:http';

const [port, chunks, intervalMs] = process.argv.slice(2).map(Number);

/** Epoch ms with the monotonic clock's resolution (comparable across processes on one host). */
const epochMs = (): number => performance.timeOrigin + performance.now();

const frame = (content: string, finish: string | null): string =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-slow',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gemini-2.5-flash',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
    t: epochMs(),
  })}\n\n`;

const server = http.createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const tick = (): void => {
      sent += 1;
      res.write(frame(`part ${sent} `, sent === chunks ? 'stop' : null));
      if (sent === chunks) {
        res.end('data: [DONE]\n\n');
        return;
      }
      setTimeout(tick, intervalMs);
    };
    tick();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => process.exit(0));
