/**
 * The address a worker registers (node_url): EXTERNAL_HOST, a DNS name such as a StatefulSet
 * pod's name under its headless Service, wins over the seed's EXTERNAL_IP, which keeps working;
 * either must be a bare host, because node_url is `http://HOST:PORT`.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('node_url from EXTERNAL_HOST / EXTERNAL_IP', () => {
  it('uses a pod DNS name from EXTERNAL_HOST, before EXTERNAL_IP', () => {
    const env = { EXTERNAL_HOST: 'worker-0.workers.gemini-kasm.svc', EXTERNAL_IP: '10.0.0.5' };
    expect(loadConfig('worker', env).nodeUrl).toBe('http://worker-0.workers.gemini-kasm.svc:8000');
    expect(loadConfig('worker', { ...env, EXTERNAL_PORT: '18000' }).nodeUrl).toBe(
      'http://worker-0.workers.gemini-kasm.svc:18000',
    );
  });

  it('keeps the seed contract: EXTERNAL_IP and EXTERNAL_PORT, or a compose service name', () => {
    expect(loadConfig('worker', { EXTERNAL_IP: '10.0.0.5', EXTERNAL_PORT: '8001' }).nodeUrl).toBe(
      'http://10.0.0.5:8001',
    );
    expect(loadConfig('worker', { EXTERNAL_IP: 'worker-1', EXTERNAL_HOST: '' }).nodeUrl).toBe(
      'http://worker-1:8000',
    );
  });

  it('brackets an IPv6 address', () => {
    expect(loadConfig('worker', { EXTERNAL_HOST: 'fd00::5', PORT: '8002' }).nodeUrl).toBe(
      'http://[fd00::5]:8002',
    );
  });

  it.each([
    ['EXTERNAL_HOST', 'http://worker-0.workers'],
    ['EXTERNAL_HOST', 'worker-0:8000'],
    ['EXTERNAL_HOST', 'worker-0/x'],
    ['EXTERNAL_IP', '$(POD_NAME).workers'],
    ['EXTERNAL_IP', 'under_score.example'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig('worker', { [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig('worker', { [name]: value })).toThrow(
      new RegExp(`${name}: expected a host name`),
    );
  });
});
