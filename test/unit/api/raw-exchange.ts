/**
 * One HTTP/1.1 exchange on a raw socket, byte for byte as given (a request target no client
 * library would send, a declared length with no body, Expect: 100-continue), read to the end
 * of the answer (by its framing): the interim 100 if any, the final status, headers and body (unchunked).
 */
import net from 'node:net';

/** The request as sent. */
export interface RawRequest {
  readonly method: string;
  /** The request target, latin1. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The answer as read. */
export interface RawAnswer {
  /** Whether a `100 Continue` came before the final answer. */
  readonly continued: boolean;
  readonly status: number;
  /** Header names lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends `request` on its own connection to `url`'s port and reads until the server closes. */
export function rawExchange(url: string, request: RawRequest): Promise<RawAnswer> {
  const head = Object.entries(request.headers).map(([k, v]) => `${k}: ${v}\r\n`);
  const bytes = Buffer.concat([
    Buffer.from(`${request.method} ${request.target} HTTP/1.1\r\n${head.join('')}\r\n`, 'latin1'),
    request.body,
  ]);
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    const done = () => {
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1')));
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // Done when the answer's own framing says so: the server may close a while later.
      if (isComplete(Buffer.concat(chunks).toString('latin1'))) {
        done();
      }
    });
    // A server that refuses a body unread may reset the connection: the answer came before.
    socket.on('error', () => undefined);
    socket.once('close', done);
  });
}

/** Whether `text` holds a whole final answer, by its Content-Length or its last chunk. */
function isComplete(text: string): boolean {
  const final = skipInterim(text).rest;
  const split = final.indexOf('\r\n\r\n');
  if (split < 0) {
    return false;
  }
  const head = final.slice(0, split);
  const body = final.slice(split + 4);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined) {
    return body.length >= Number(length);
  }
  return /\r\ntransfer-encoding: *chunked/i.test(head) && /(^|\r\n)0\r\n\r\n$/.test(body);
}

/** The text after any 1xx answers, and whether one was a 100 Continue. */
function skipInterim(text: string): { rest: string; continued: boolean } {
  let rest = text;
  let continued = false;
  while (rest.startsWith('HTTP/1.1 1') && rest.includes('\r\n\r\n')) {
    continued ||= rest.startsWith('HTTP/1.1 100');
    rest = rest.slice(rest.indexOf('\r\n\r\n') + 4);
  }
  return { rest, continued };
}

/** Parses the answer read as latin1 (one char a byte, so chunk sizes count right). */
function parseAnswer(text: string): RawAnswer {
  const { rest, continued } = skipInterim(text);
  const split = rest.indexOf('\r\n\r\n');
  const lines = rest.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const raw = rest.slice(split + 4);
  return {
    continued,
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]),
    headers,
    body: Buffer.from(
      headers['transfer-encoding'] === 'chunked' ? unchunk(raw) : raw,
      'latin1',
    ).toString('utf8'),
  };
}

/** The body of a chunked HTTP/1.1 message (latin1 text), its chunks joined. */
export function unchunk(text: string): string {
  let out = '';
  for (let at = 0; ;) {
    const eol = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) {
      return out;
    }
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
