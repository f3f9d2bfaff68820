import { describe, expect, it } from 'vitest';
import { nodeStatus, type NodeSnapshot } from '../../../src/registry/index.ts';

const NOW = 1_700_000_000_000;
const base: NodeSnapshot = {
  currentTasks: 0,
  queueWaiting: 0,
  cooldownUntil: null,
  cooldownReason: null,
  loginState: 'unknown',
  hasServed: false,
  models: [],
  version: null,
};

describe('nodeStatus (the seed rules)', () => {
  it.each<[string, Partial<NodeSnapshot>, string]>([
    ['a fresh worker that has not served nor checked login', {}, 'INIT'],
    ['after a login check', { loginState: 'logged_in' }, 'HEALTHY'],
    ['browser away but cookie cache may serve', { loginState: 'browser_unreachable' }, 'HEALTHY'],
    ['after serving once', { hasServed: true }, 'HEALTHY'],
    ['while running a task', { hasServed: true, loginState: 'logged_in', currentTasks: 1 }, 'BUSY'],
    ['signed out, even having served', { hasServed: true, loginState: 'login_required' }, 'INIT'],
    [
      'while cooling, even busy',
      { hasServed: true, currentTasks: 1, cooldownUntil: NOW + 1, cooldownReason: 'quota' },
      '429_LIMIT',
    ],
    [
      'cooling beats signed out',
      { loginState: 'login_required', cooldownUntil: NOW + 1000, cooldownReason: 'ip_blocked' },
      '429_LIMIT',
    ],
    [
      'half-open (cooldown ended, not cleared): routable so the probe can come',
      { hasServed: true, cooldownUntil: NOW - 1, cooldownReason: 'quota' },
      'HEALTHY',
    ],
  ])('%s', (_name, over, status) => {
    expect(nodeStatus({ ...base, ...over }, NOW)).toBe(status);
  });
});
