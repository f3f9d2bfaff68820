import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  COOKIE_CACHE_FILE,
  FileCookieSource,
  mergeCookies,
  readCookieCache,
  writeCookieCache,
} from '../../../src/browser/index.ts';
import { redactText } from '../../../src/logging.ts';
import { cookie } from './support/cookies.ts';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gk-cookie-cache-'));
  file = path.join(dir, COOKIE_CACHE_FILE);
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writeCookieCache', () => {
  it('writes mode 0600 with the seed keys and the full list', async () => {
    const jar = [
      cookie('__Secure-1PSID', 'g.a000-psid-value'),
      cookie('__Secure-1PSIDTS', 'sidts-ts-value'),
      cookie('NID', 'nid-value'),
    ];
    await writeCookieCache(file, jar);
    const stat = await fs.stat(file);
    expect(stat.mode & 0o777).toBe(0o600);
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    expect(data['SECURE_1PSID']).toBe('g.a000-psid-value');
    expect(data['SECURE_1PSIDTS']).toBe('sidts-ts-value');
    expect(Number.isNaN(Date.parse(String(data['updated_at'])))).toBe(false);
    expect(data['cookies']).toEqual(jar);
  });

  it('replaces a wider-mode file with a 0600 one and leaves no temp file', async () => {
    await fs.writeFile(file, '{}', { mode: 0o644 });
    await fs.chmod(file, 0o644);
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'psid-two-value')]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir)).toEqual([COOKIE_CACHE_FILE]);
  });

  it('keeps the old file whole when the write fails, and cleans its temp file', async () => {
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'old-psid-value')]);
    const before = await fs.readFile(file, 'utf8');
    // A directory where the file should go makes the rename fail.
    const blocked = path.join(dir, 'blocked');
    await fs.mkdir(path.join(blocked, 'x'), { recursive: true });
    await expect(
      writeCookieCache(blocked, [cookie('__Secure-1PSID', 'new-psid-value')]),
    ).rejects.toThrow();
    expect(await fs.readFile(file, 'utf8')).toBe(before);
    expect((await fs.readdir(dir)).sort()).toEqual(['blocked', COOKIE_CACHE_FILE].sort());
  });

  it('creates the data directory when missing', async () => {
    const nested = path.join(dir, 'a', 'b', COOKIE_CACHE_FILE);
    await writeCookieCache(nested, [cookie('__Secure-1PSID', 'nested-psid')]);
    expect(await readCookieCache(nested)).toHaveLength(1);
  });
});

describe('readCookieCache', () => {
  it('round-trips what was written', async () => {
    const jar = [
      cookie('__Secure-1PSID', 'round-trip-psid'),
      cookie('SIDCC', 'sidcc-value-1', 'gemini.google.com'),
    ];
    await writeCookieCache(file, jar);
    expect(await readCookieCache(file)).toEqual(jar);
  });

  it('turns a seed-era file (two keys only) into cookies', async () => {
    await fs.writeFile(
      file,
      JSON.stringify({
        SECURE_1PSID: 'seed-psid-value',
        SECURE_1PSIDTS: 'seed-psidts-value',
        updated_at: 'x',
      }),
    );
    const jar = await readCookieCache(file);
    expect(jar.map((c) => [c.name, c.value, c.domain])).toEqual([
      ['__Secure-1PSID', 'seed-psid-value', '.google.com'],
      ['__Secure-1PSIDTS', 'seed-psidts-value', '.google.com'],
    ]);
  });

  it('prefers the full list over the seed keys for the same cookie', async () => {
    await fs.writeFile(
      file,
      JSON.stringify({
        SECURE_1PSID: 'stale-key-value',
        cookies: [cookie('__Secure-1PSID', 'list-value-psid')],
      }),
    );
    expect((await readCookieCache(file)).map((c) => c.value)).toEqual(['list-value-psid']);
  });

  it.each([
    ['a missing file', null],
    ['an empty file', ''],
    ['whitespace', '  \n'],
    ['broken JSON', '{"cookies": ['],
    ['an empty object (init.sh)', '{}'],
    ['JSON null', 'null'],
    ['a JSON array', '[1,2]'],
    ['a JSON number', '42'],
    ['empty seed keys', '{"SECURE_1PSID":"","SECURE_1PSIDTS":""}'],
  ])('yields no cookies for %s', async (_label, content) => {
    if (content !== null) {
      await fs.writeFile(file, content);
    }
    expect(await readCookieCache(file)).toEqual([]);
  });

  it('drops malformed entries in the list', async () => {
    await fs.writeFile(
      file,
      JSON.stringify({
        cookies: [
          cookie('NID', 'nid-good-value'),
          { name: 'x' },
          42,
          null,
          { name: 'y', value: 1, domain: 'd' },
        ],
      }),
    );
    expect((await readCookieCache(file)).map((c) => c.name)).toEqual(['NID']);
  });

  it('registers every value it reads as a secret', async () => {
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'secret-from-cache-file')]);
    await readCookieCache(file);
    expect(redactText('value=secret-from-cache-file;')).toBe('value=[REDACTED];');
  });
});

describe('mergeCookies', () => {
  it('replaces by name, domain and path and keeps the rest', () => {
    const merged = mergeCookies(
      [
        cookie('SIDCC', 'old-sidcc'),
        cookie('NID', 'nid-1'),
        cookie('SIDCC', 'host-sidcc', 'gemini.google.com'),
      ],
      [cookie('SIDCC', 'new-sidcc'), cookie('__Secure-1PSIDCC', 'psidcc-1')],
    );
    expect(merged.map((c) => `${c.name}@${c.domain}=${c.value}`).sort()).toEqual(
      [
        'NID@.google.com=nid-1',
        'SIDCC@.google.com=new-sidcc',
        'SIDCC@gemini.google.com=host-sidcc',
        '__Secure-1PSIDCC@.google.com=psidcc-1',
      ].sort(),
    );
  });

  it('does not touch its inputs', () => {
    const current = [cookie('A', 'one-value')];
    mergeCookies(current, [cookie('A', 'two-value')]);
    expect(current[0]?.value).toBe('one-value');
  });
});

describe('FileCookieSource', () => {
  it('serves the file and saves absorbed cookies', async () => {
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'file-source-psid')]);
    const source = new FileCookieSource(file);
    expect((await source.getCookies()).map((c) => c.name)).toEqual(['__Secure-1PSID']);
    await source.absorb([cookie('SIDCC', 'absorbed-sidcc')]);
    await source.close();
    const again = new FileCookieSource(file);
    expect((await again.getCookies()).map((c) => c.name).sort()).toEqual([
      'SIDCC',
      '__Secure-1PSID',
    ]);
  });

  it('serves absorbed cookies at once and rewrites the file at most once per interval', async () => {
    await writeCookieCache(file, [cookie('__Secure-1PSID', 'file-source-psid')]);
    const source = new FileCookieSource(file, { writeIntervalMs: 60_000 });
    for (let i = 0; i < 50; i += 1) {
      await source.absorb([cookie('__Secure-1PSIDCC', `psidcc-churn-${i}`)]);
      const served = await source.getCookies();
      expect(served.find((c) => c.name === '__Secure-1PSIDCC')?.value).toBe(`psidcc-churn-${i}`);
    }
    // The first write started at once; the 49 after it wait for the interval, folded into one.
    await new Promise((r) => setTimeout(r, 50));
    const onDisk = (await readCookieCache(file)).find((c) => c.name === '__Secure-1PSIDCC');
    expect(onDisk?.value).toBe('psidcc-churn-0');
    await source.close();
    const closed = (await readCookieCache(file)).find((c) => c.name === '__Secure-1PSIDCC');
    expect(closed?.value).toBe('psidcc-churn-49');
  });

  it('drops a cookie Google deletes (Max-Age=0 arrives as expires 0)', async () => {
    await writeCookieCache(file, [
      cookie('__Secure-1PSID', 'file-source-psid'),
      cookie('NID', 'nid-to-delete'),
    ]);
    const source = new FileCookieSource(file);
    await source.absorb([{ ...cookie('NID', ''), expires: 1 }]);
    expect((await source.getCookies()).map((c) => c.name)).toEqual(['__Secure-1PSID']);
    await source.close();
  });

  it('keeps serving when the file cannot be written, and never throws from absorb', async () => {
    const blocked = path.join(dir, 'not-a-dir');
    await fs.writeFile(blocked, 'x');
    const source = new FileCookieSource(path.join(blocked, COOKIE_CACHE_FILE));
    await expect(
      source.absorb([cookie('__Secure-1PSID', 'psid-unsaved')]),
    ).resolves.toBeUndefined();
    expect((await source.getCookies()).map((c) => c.value)).toEqual(['psid-unsaved']);
    await expect(source.close()).resolves.toBeUndefined();
  });
});
