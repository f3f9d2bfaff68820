/**
 * The JSON body of a turn's answer, written as express's res.json writes it (the same content
 * type, a Content-Length) but without its ETag: a POST's answer is never revalidated, and its
 * hash and header handling cost more than the write itself on the answer's path.
 */
import type { Response } from 'express';

/** Ends `res` with `body` as JSON, in the status already set (200 unless said otherwise). */
export function replyJson(res: Response, body: object): void {
  const text = JSON.stringify(body);
  if (!res.hasHeader('content-type')) {
    res.setHeader('content-type', 'application/json; charset=utf-8');
  }
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
