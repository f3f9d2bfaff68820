/**
 * Small real PNG images, so clients can check they fetched actual image bytes. The colour
 * comes from a seed, so each image is stable and different images differ.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A `sizePx` x `sizePx` RGB PNG: a diagonal gradient over a colour derived from `seed`. */
export function makePng(seed: string, sizePx = 16): Buffer {
  const [r = 0, g = 0, b = 0] = createHash('sha256').update(seed).digest();
  const row = 1 + sizePx * 3;
  const raw = Buffer.alloc(row * sizePx);
  for (let y = 0; y < sizePx; y += 1) {
    raw[y * row] = 0; // filter type: none
    for (let x = 0; x < sizePx; x += 1) {
      const shade = ((x + y) * 255) / (2 * (sizePx - 1));
      const at = y * row + 1 + x * 3;
      raw[at] = (r + shade) & 0xff;
      raw[at + 1] = (g + shade / 2) & 0xff;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(sizePx, 0);
  header.writeUInt32BE(sizePx, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, truecolour, deflate, no filter, no interlace
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typed) >>> 0, 0);
  return Buffer.concat([length, typed, crc]);
}
