import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkInputCount, readInputs, sniffImage } from '../../../src/api/inputs.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

describe('inputs', () => {
  const uploadsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-uploads-'));
  const opts = { uploadsDir, maxBytes: 1024 };

  it('reads a base64 data URL and names it by its real type', async () => {
    const [f] = await readInputs([`data:image/png;base64,${PNG.toString('base64')}`], [], opts);
    expect(f?.mimeType).toBe('image/png');
    expect(f?.data.equals(PNG)).toBe(true);
    expect(sniffImage(Buffer.from('hello'))).toBeNull();
  });

  it('rejects bad images with 400 and big ones with 413', async () => {
    await expect(readInputs(['data:image/png;base64,!!!'], [], opts)).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      readInputs(
        [`data:image/png;base64,${Buffer.from('not an image').toString('base64')}`],
        [],
        opts,
      ),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_image' });
    await expect(
      readInputs(
        [`data:image/png;base64,${Buffer.concat([PNG, Buffer.alloc(2048)]).toString('base64')}`],
        [],
        opts,
      ),
    ).rejects.toMatchObject({ status: 413 });
  });

  it('reads /upload files and refuses paths outside the uploads folder', async () => {
    fs.writeFileSync(path.join(uploadsDir, '20261126120000_0011aabb_cat.png'), PNG);
    const [f] = await readInputs([], ['uploads/20261126120000_0011aabb_cat.png'], opts);
    expect(f?.fileName).toBe('cat.png');
    await expect(readInputs([], ['../../etc/passwd'], opts)).rejects.toMatchObject({ status: 400 });
    await expect(readInputs([], ['uploads/missing.png'], opts)).rejects.toMatchObject({
      status: 404,
    });
    // Someone else's upload reads exactly like a missing one.
    const other = { keyId: 'key-b', role: 'user' } as const;
    const owners = path.join(uploadsDir, '.owners');
    fs.mkdirSync(owners, { recursive: true });
    fs.writeFileSync(path.join(owners, '20261126120000_0011aabb_cat.png'), 'key-a');
    await expect(
      readInputs([], ['uploads/20261126120000_0011aabb_cat.png'], { ...opts, caller: other }),
    ).rejects.toMatchObject({
      status: 404,
      message: 'Unknown file: uploads/20261126120000_0011aabb_cat.png',
    });
    const owner = { keyId: 'key-a', role: 'user' } as const;
    expect(
      await readInputs([], ['uploads/20261126120000_0011aabb_cat.png'], { ...opts, caller: owner }),
    ).toHaveLength(1);
    await expect(
      readInputs([], ['uploads/.owners/20261126120000_0011aabb_cat.png'], opts),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('holds an upload named as an image to the checks of any image', async () => {
    const upload = (name: string, data: Buffer) => {
      fs.writeFileSync(path.join(uploadsDir, `20261205120000_00aa11bb_${name}`), data);
      return `uploads/20261205120000_00aa11bb_${name}`;
    };
    const [image] = await readInputs([upload('dot.png', PNG)], [], opts);
    expect(image).toMatchObject({ mimeType: 'image/png', fileName: 'image_1.png' });
    const refused = [
      [upload('page.png', Buffer.from('<html><script>x</script></html>')), 400, 'invalid_image'],
      [upload('empty.png', Buffer.alloc(0)), 400, 'invalid_image'],
      [upload('big.png', Buffer.concat([PNG, Buffer.alloc(2048)])), 413, 'image_too_large'],
    ] as const;
    for (const [ref, status, code] of refused) {
      await expect(readInputs([ref], [], opts)).rejects.toMatchObject({ status, code });
    }
    // As a file (not an image) the same HTML upload is taken as it is.
    const [file] = await readInputs([], [refused[0][0]], opts);
    expect(file?.fileName).toBe('page.png');
  });

  it('caps the images and files of one send, each occurrence counted', () => {
    expect(() => checkInputCount(11, 0)).toThrow(
      expect.objectContaining({ status: 400, code: 'too_many_images' }),
    );
    expect(() => checkInputCount(10, 0)).not.toThrow();
    expect(() => checkInputCount(3, 0, 3)).not.toThrow();
    expect(() => checkInputCount(3, 1, 3)).toThrow(/at most 3 per request/);
    expect(() => checkInputCount(0, 4, 3)).toThrow(/repeated image counts each time/);
  });
});
