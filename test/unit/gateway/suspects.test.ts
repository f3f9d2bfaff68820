import { describe, expect, it } from 'vitest';
import { createSuspects } from '../../../src/gateway/suspects.ts';

describe('suspects', () => {
  it('avoids a node that refused a connection for a while, then forgets it', () => {
    const s = createSuspects(5000);
    s.mark('http://a', 1000);
    expect([...s.with(new Set(['http://b']), 2000)].sort()).toEqual(['http://a', 'http://b']);
    expect([...s.with(new Set(), 6000)]).toEqual([]);
  });
});
