import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redact, registerSecret } from '../../src/logging.ts';

describe('logging', () => {
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
});
