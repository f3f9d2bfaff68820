import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  KeyRing,
  NoApiKeyError,
  checkAuthConfigured,
  keyIdOf,
  parseKeyFile,
  type KeySources,
} from '../../../src/http/index.ts';

const sources = (extra: Partial<KeySources> = {}): KeySources => ({
  apiKeys: [],
  adminApiKeys: [],
  apiKeysFile: null,
  adminApiKeysFile: null,
  allowNoAuth: false,
  ...extra,
});

describe('KeyRing', () => {
  it('tells user keys from admin keys; a key in both lists is admin', () => {
    const ring = new KeyRing(
      sources({ apiKeys: ['sk-user-1', 'sk-both'], adminApiKeys: ['sk-admin-1', 'sk-both'] }),
    );
    expect(ring.identify('sk-user-1')).toEqual({ keyId: keyIdOf('sk-user-1'), role: 'user' });
    expect(ring.identify('sk-admin-1')?.role).toBe('admin');
    expect(ring.identify('sk-both')?.role).toBe('admin');
    expect(ring.identify('sk-user-')).toBeNull();
    expect(ring.identify('')).toBeNull();
    expect(ring.identify(null)).toBeNull();
    expect(ring.size).toBe(3);
  });

  it('keyIdOf is the first 16 hex characters of sha256, and holds nothing of the key', () => {
    expect(keyIdOf('sk-secret-value')).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf('sk-secret-value')).not.toBe(keyIdOf('sk-secret-valuE'));
    expect(keyIdOf('abc')).toBe('ba7816bf8f01cfea');
  });

  it('registers every key it loads (for log redaction)', () => {
    const seen: string[] = [];
    new KeyRing(sources({ apiKeys: ['sk-a'], adminApiKeys: ['sk-b'] }), (k) => seen.push(k));
    expect(seen.sort()).toEqual(['sk-a', 'sk-b']);
  });

  it('reloads key files on SIGHUP and on change; a missing file counts as empty', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-keys-'));
    const userFile = path.join(dir, 'user.keys');
    const adminFile = path.join(dir, 'admin.keys');
    fs.writeFileSync(userFile, '# users\nsk-file-user-1\n\nsk-file-user-2, sk-file-user-3\n');
    const ring = new KeyRing(
      sources({ apiKeysFile: userFile, adminApiKeysFile: adminFile, apiKeys: ['sk-env'] }),
    );
    expect(ring.identify('sk-file-user-3')?.role).toBe('user');
    expect(ring.identify('sk-env')?.role).toBe('user');
    const reloads: unknown[] = [];
    const stop = ring.watch((counts) => reloads.push(counts), 50);
    try {
      fs.writeFileSync(adminFile, 'sk-file-admin\n');
      process.emit('SIGHUP', 'SIGHUP');
      expect(ring.identify('sk-file-admin')?.role).toBe('admin');
      fs.writeFileSync(userFile, 'sk-rotated-user-key\n');
      const deadline = Date.now() + 3000;
      while (ring.identify('sk-rotated-user-key') === null && Date.now() < deadline) {
        await sleep(25);
      }
      expect(ring.identify('sk-rotated-user-key')?.role).toBe('user');
      expect(ring.identify('sk-file-user-1')).toBeNull();
      expect(reloads.length).toBeGreaterThanOrEqual(2);
    } finally {
      stop();
    }
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });

  it('parses key files: comments, blanks, commas, CRLF', () => {
    expect(parseKeyFile('a\r\n# c\n b , c # trailing\n\n')).toEqual(['a', 'b', 'c']);
  });
});

describe('checkAuthConfigured', () => {
  it('refuses to start with no key, unless ALLOW_NO_AUTH; then it warns', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(() => checkAuthConfigured(new KeyRing(sources()), warn)).toThrow(NoApiKeyError);
    const open = new KeyRing(sources({ allowNoAuth: true }));
    checkAuthConfigured(open, warn);
    expect(warnings).toHaveLength(1);
    expect(open.identify(null)).toEqual({ keyId: 'anonymous', role: 'admin' });
    // Keys configured: ALLOW_NO_AUTH changes nothing, no warning.
    const keyed = new KeyRing(sources({ allowNoAuth: true, apiKeys: ['sk-x'] }));
    checkAuthConfigured(keyed, warn);
    expect(warnings).toHaveLength(1);
    expect(keyed.identify(null)).toBeNull();
  });
});
