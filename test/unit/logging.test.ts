import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  createLogger,
  redact,
  redactionStats,
  registerCookie,
  registerSecret,
} from '../../src/logging.ts';

const capture = () => {
  const sink = new PassThrough();
  const lines: string[] = [];
  sink.on('data', (b: Buffer) => lines.push(b.toString()));
  return { sink, lines };
};

describe('logging', () => {
  it('a disabled level never enters winston; a child follows the level set later', async () => {
    const { sink, lines } = capture();
    const logger = createLogger({ stream: sink });
    const child = logger.child({ module: 'm' });
    const write = vi.spyOn(logger, 'write');
    child.debug('quiet');
    logger.debug('quiet too');
    expect(write).not.toHaveBeenCalled();
    logger.level = 'debug';
    child.debug('heard');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['heard']);
  });

  it('blanks secret keys and replaces registered values anywhere', async () => {
    registerSecret('g.a000-secret-psid-value');
    const sink = new PassThrough();
    let out = '';
    sink.on('data', (b: Buffer) => (out += b.toString()));
    const logger = createLogger({ stream: sink });
    logger.info('sending g.a000-secret-psid-value upstream', {
      headers: { Cookie: 'a=b', authorization: 'Bearer sk-1', 'Set-Cookie': ['x=y'] },
      at: 'token:123',
      nested: { deep: ['id=g.a000-secret-psid-value;'] },
      err: new Error('failed with g.a000-secret-psid-value'),
    });
    await new Promise((r) => setImmediate(r));
    expect(out).toContain('[REDACTED]');
    expect(out).not.toContain('g.a000-secret-psid-value');
    expect(out).not.toContain('sk-1');
    expect(out).not.toContain('token:123');
    expect(out).not.toContain('a=b');
    const line = JSON.parse(out.trim()) as { level: string; message: string };
    expect(line.level).toBe('info');
  });

  it('leaves ordinary values alone and ignores short secrets', () => {
    registerSecret('abc');
    expect(redact({ model: 'gemini-2.5-flash', count: 3, text: 'abc' })).toEqual({
      model: 'gemini-2.5-flash',
      count: 3,
      text: 'abc',
    });
  });

  it('writes debug lines only with debug on', async () => {
    const sink = new PassThrough();
    let out = '';
    sink.on('data', (b: Buffer) => (out += b.toString()));
    createLogger({ stream: sink }).debug('hidden');
    createLogger({ stream: sink, debug: true }).debug('shown');
    await new Promise((r) => setImmediate(r));
    expect(out).not.toContain('hidden');
    expect(out).toContain('shown');
  });

  it('still redacts an API key after 5 000 rotated cookies, and the live jar with it', async () => {
    const apiKey = `key-${randomBytes(16).toString('hex')}`;
    registerSecret(apiKey);
    let nid = '';
    let psidcc = '';
    for (let i = 0; i < 2500; i += 1) {
      nid = randomBytes(24).toString('base64url');
      psidcc = `AKEyXzW${randomBytes(30).toString('base64url')}`;
      registerCookie({ name: 'NID', value: nid, domain: '.google.com', path: '/' });
      registerCookie({ name: '__Secure-1PSIDCC', value: psidcc, domain: '.google.com', path: '/' });
    }
    const { sink, lines } = capture();
    createLogger({ stream: sink }).warn(`upstream said ${nid} and ${psidcc}`, { key: apiKey });
    await new Promise((r) => setImmediate(r));
    const out = lines.join('');
    expect(out).toContain('[REDACTED]');
    for (const secret of [apiKey, nid, psidcc]) {
      expect(out).not.toContain(secret);
    }
  });

  it('drops a disabled debug line before it reaches the redaction', async () => {
    const { sink, lines } = capture();
    const logger = createLogger({ stream: sink });
    logger.info('settle the matcher');
    // A jar change marks the matcher stale; only a line that is redacted rebuilds it.
    registerCookie({ name: 'NID', value: randomBytes(24).toString('base64url'), domain: '.google.com' });
    const before = redactionStats().rebuilds;
    for (let i = 0; i < 20; i += 1) {
      logger.debug('per-request detail', { i });
    }
    expect(redactionStats().rebuilds).toBe(before);
    logger.info('this one is written');
    expect(redactionStats().rebuilds).toBe(before + 1);
    await new Promise((r) => setImmediate(r));
    expect(lines.join('')).not.toContain('per-request detail');
  });
});
