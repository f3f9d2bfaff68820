/**
 * A small multipart/form-data reader: enough for content-push uploads (one `file` part with a
 * filename and a content type). Malformed input yields no parts, never an exception.
 */

/** One part of a multipart body. */
export interface MultipartPart {
  name: string;
  fileName: string | null;
  contentType: string | null;
  data: Buffer;
}

/** The boundary of a multipart Content-Type, or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  const match = /^multipart\/form-data\s*;.*?boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(
    contentType ?? '',
  );
  return match ? (match[1] ?? match[2] ?? null) : null;
}

/** Splits `body` into parts. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const headerStart = start + delimiter.length;
    if (body.subarray(headerStart, headerStart + 2).toString() === '--') {
      break;
    }
    const next = body.indexOf(delimiter, headerStart);
    if (next === -1) {
      break;
    }
    const part = parsePart(body.subarray(headerStart, next));
    if (part) {
      parts.push(part);
    }
    start = next;
  }
  return parts;
}

function parsePart(raw: Buffer): MultipartPart | null {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd === -1) {
    return null;
  }
  const headers = raw.subarray(0, headerEnd).toString('utf8');
  // The part ends with CRLF before the next delimiter.
  const data = raw.subarray(headerEnd + 4, Math.max(headerEnd + 4, raw.length - 2));
  const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
  const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined) {
    return null;
  }
  return {
    name,
    fileName: /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
    contentType: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? null,
    data: Buffer.from(data),
  };
}
