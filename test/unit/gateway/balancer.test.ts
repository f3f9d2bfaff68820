import { describe, expect, it } from 'vitest';
import { RateLimitError, ServiceUnavailableError } from '../../../src/errors.ts';
import {
  nodeState,
  pick,
  servesModel,
  type NodeRecord,
  type PickOptions,
} from '../../../src/gateway/index.ts';
import { node } from './helpers.ts';

const NOW = 1_800_000_000_000;
const OPTS: PickOptions = { nodeFreshMs: 15_000 };
const n = (url: string, o: Partial<NodeRecord> = {}): NodeRecord =>
  node({ nodeUrl: url, workerId: url, account: url, ...o }, NOW);

function pickError(nodes: NodeRecord[], opts: PickOptions = OPTS, exclude?: Set<string>): unknown {
  try {
    pick(nodes, NOW, opts, exclude);
  } catch (err) {
    return err;
  }
  throw new Error('pick() did not throw');
}

describe('pick: eligibility', () => {
  it('takes a fresh heartbeat, up to nodeFreshMs old, and not older', () => {
    const edge = n('edge', { lastHeartbeatMs: NOW - 15_000 });
    expect(pick([edge], NOW, OPTS).nodeUrl).toBe('edge');
    const stale = n('stale', { lastHeartbeatMs: NOW - 15_001 });
    expect(pickError([stale])).toBeInstanceOf(ServiceUnavailableError);
    expect(pickError([n('never', { lastHeartbeatMs: null })])).toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(pick([stale, n('ok')], NOW, OPTS).nodeUrl).toBe('ok');
  });

  it('honours a configured freshness window', () => {
    const old = n('old', { lastHeartbeatMs: NOW - 20_000 });
    expect(pick([old], NOW, { nodeFreshMs: 30_000 }).nodeUrl).toBe('old');
  });

  it.each(['INIT', 'OFFLINE', '429_LIMIT', 'SOMETHING'])('skips status %s', (status) => {
    expect(pick([n('bad', { status }), n('ok')], NOW, OPTS).nodeUrl).toBe('ok');
  });

  it('takes BUSY as well as HEALTHY', () => {
    expect(pick([n('busy', { status: 'BUSY' })], NOW, OPTS).nodeUrl).toBe('busy');
  });

  it('skips a node cooling down, and takes it back once the cooldown has passed', () => {
    const cooling = n('c', { cooldownUntilMs: NOW + 1 });
    expect(pick([cooling, n('ok', { currentTasks: 5 })], NOW, OPTS).nodeUrl).toBe('ok');
    const cooled = n('c', { cooldownUntilMs: NOW });
    expect(pick([cooled, n('ok', { currentTasks: 5 })], NOW, OPTS).nodeUrl).toBe('c');
  });

  it('keeps a node whose browser is restarting: it serves from its saved cookies', () => {
    expect(pick([n('restarting', { loginState: 'browser_unreachable' })], NOW, OPTS).nodeUrl).toBe(
      'restarting',
    );
  });

  it.each(['login_required', 'unknown', null])('skips login state %s', (loginState) => {
    expect(pick([n('out', { loginState }), n('ok', { currentTasks: 9 })], NOW, OPTS).nodeUrl).toBe(
      'ok',
    );
  });

  it('skips a node of weight 0 (drained)', () => {
    expect(
      pick([n('drained', { weight: 0 }), n('ok', { currentTasks: 9 })], NOW, OPTS).nodeUrl,
    ).toBe('ok');
  });

  it('skips a node an operator drained, even an idle one that is also cooling', () => {
    const drained = n('draining', { draining: true });
    expect(pick([drained, n('ok', { currentTasks: 9 })], NOW, OPTS).nodeUrl).toBe('ok');
    expect(nodeState(drained, NOW, 15_000)).toBe('draining');
    expect(nodeState(n('x', { draining: true, status: '429_LIMIT' }), NOW, 15_000)).toBe(
      'draining',
    );
    expect(pickError([drained])).toBeInstanceOf(ServiceUnavailableError);
  });

  it('never takes an excluded node', () => {
    expect(pick([n('a'), n('b', { currentTasks: 3 })], NOW, OPTS, new Set(['a'])).nodeUrl).toBe(
      'b',
    );
  });

  it('names each state', () => {
    expect(nodeState(n('x'), NOW, 15_000)).toBe('eligible');
    expect(nodeState(n('x', { lastHeartbeatMs: NOW - 16_000 }), NOW, 15_000)).toBe('stale');
    expect(nodeState(n('x', { status: 'OFFLINE' }), NOW, 15_000)).toBe('offline');
    expect(nodeState(n('x', { status: '429_LIMIT' }), NOW, 15_000)).toBe('cooling');
    expect(nodeState(n('x', { loginState: 'login_required' }), NOW, 15_000)).toBe('login_required');
    expect(nodeState(n('x', { status: 'INIT' }), NOW, 15_000)).toBe('starting');
    expect(nodeState(n('x', { weight: 0 }), NOW, 15_000)).toBe('drained');
  });
});

describe('pick: load and weight', () => {
  it('prefers fewer current_tasks at equal weight', () => {
    expect(
      pick([n('a', { currentTasks: 2 }), n('b', { currentTasks: 1 })], NOW, OPTS).nodeUrl,
    ).toBe('b');
  });

  it('prefers the heavier node when idle, and spreads by (load + 1) / weight', () => {
    const heavy = (tasks: number) => n('heavy', { weight: 2, currentTasks: tasks });
    const light = (tasks: number) => n('light', { weight: 1, currentTasks: tasks });
    expect(pick([light(0), heavy(0)], NOW, OPTS).nodeUrl).toBe('heavy');
    // 2/2 vs 1/1: a tie on the ratio goes to the heavier node.
    expect(pick([light(0), heavy(1)], NOW, OPTS).nodeUrl).toBe('heavy');
    expect(pick([light(0), heavy(2)], NOW, OPTS).nodeUrl).toBe('light');
    expect(pick([light(1), heavy(3)], NOW, OPTS).nodeUrl).toBe('heavy');
  });

  it("adds this gateway's in-flight requests to a node's reported tasks", () => {
    const nodes = [n('a'), n('b', { currentTasks: 1 })];
    expect(pick(nodes, NOW, OPTS).nodeUrl).toBe('a');
    const inFlight = new Map([['a', 2]]);
    expect(pick(nodes, NOW, { ...OPTS, inFlight }).nodeUrl).toBe('b');
  });

  it('spreads a burst when the caller counts each choice in flight', () => {
    const nodes = [n('a'), n('b'), n('c')];
    const inFlight = new Map<string, number>();
    const chosen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const url = pick(nodes, NOW, { ...OPTS, inFlight }).nodeUrl;
      inFlight.set(url, (inFlight.get(url) ?? 0) + 1);
      chosen.push(url);
    }
    expect(chosen.sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
  });

  it('breaks exact ties by node_url, rotated by opts.rotation', () => {
    const nodes = [n('c'), n('a'), n('b')];
    expect(pick(nodes, NOW, OPTS).nodeUrl).toBe('a');
    expect([0, 1, 2, 3].map((rotation) => pick(nodes, NOW, { ...OPTS, rotation }).nodeUrl)).toEqual(
      ['a', 'b', 'c', 'a'],
    );
    // Rotation never picks a worse node.
    const uneven = [n('a'), n('b', { currentTasks: 1 })];
    expect([0, 1, 2].map((rotation) => pick(uneven, NOW, { ...OPTS, rotation }).nodeUrl)).toEqual([
      'a',
      'a',
      'a',
    ]);
  });

  it('is deterministic and does not reorder its input', () => {
    const nodes = [n('b', { currentTasks: 1 }), n('a', { currentTasks: 1 })];
    const copy = [...nodes];
    expect(pick(nodes, NOW, OPTS)).toBe(pick(nodes, NOW, OPTS));
    expect(nodes).toEqual(copy);
  });
});

describe('pick: affinity', () => {
  it('keeps a conversation on its bound node even when another is idler', () => {
    const nodes = [n('a'), n('b', { currentTasks: 4 })];
    expect(pick(nodes, NOW, { ...OPTS, affinity: { nodeUrl: 'b', account: 'b' } }).nodeUrl).toBe(
      'b',
    );
  });

  it('falls back to a node of the same account, then to any node', () => {
    const nodes = [n('a', { account: 'x' }), n('b2', { account: 'acct-b', currentTasks: 3 })];
    const bound = { nodeUrl: 'b1', account: 'acct-b' };
    expect(pick(nodes, NOW, { ...OPTS, affinity: bound }).nodeUrl).toBe('b2');
    const gone = { nodeUrl: 'z', account: 'acct-z' };
    expect(pick(nodes, NOW, { ...OPTS, affinity: gone }).nodeUrl).toBe('a');
  });

  it('moves off a bound node that cannot serve, or was already tried', () => {
    const nodes = [n('a', { cooldownUntilMs: NOW + 60_000 }), n('b')];
    expect(pick(nodes, NOW, { ...OPTS, affinity: { nodeUrl: 'a', account: 'a' } }).nodeUrl).toBe(
      'b',
    );
    const both = [n('a'), n('b')];
    const opts = { ...OPTS, affinity: { nodeUrl: 'a', account: 'a' } };
    expect(pick(both, NOW, opts, new Set(['a'])).nodeUrl).toBe('b');
  });
});

describe('pick: nothing eligible', () => {
  it('answers 429 with the soonest cooldown end when every live node is cooling', () => {
    const err = pickError([
      n('a', { cooldownUntilMs: NOW + 90_000, status: '429_LIMIT' }),
      n('b', { cooldownUntilMs: NOW + 30_500 }),
      n('dead', { lastHeartbeatMs: NOW - 60_000 }),
      n('off', { status: 'OFFLINE' }),
    ]);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).status).toBe(429);
    expect((err as RateLimitError).retryAfterS).toBe(31);
  });

  it('uses coolingRetryAfterS when cooling nodes do not say when they end', () => {
    const err = pickError([n('a', { status: '429_LIMIT' })], { ...OPTS, coolingRetryAfterS: 120 });
    expect((err as RateLimitError).retryAfterS).toBe(120);
  });

  it('answers 503 when a live node is not cooling but cannot serve', () => {
    const err = pickError([
      n('a', { cooldownUntilMs: NOW + 5000 }),
      n('b', { loginState: 'login_required' }),
    ]);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as ServiceUnavailableError).retryAfterS).toBe(5);
  });

  it('answers 503 with no node at all, or only stale ones', () => {
    expect(pickError([])).toBeInstanceOf(ServiceUnavailableError);
    const stale = pickError([
      n('a', { lastHeartbeatMs: NOW - 60_000, cooldownUntilMs: NOW + 10_000 }),
    ]);
    expect(stale).toBeInstanceOf(ServiceUnavailableError);
    const err = pickError([], { ...OPTS, unavailableRetryAfterS: 9 });
    expect((err as ServiceUnavailableError).retryAfterS).toBe(9);
  });

  it('answers 503 when the only eligible node was already tried', () => {
    expect(pickError([n('a')], OPTS, new Set(['a']))).toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('pick: by model', () => {
  const now = Date.now();
  const free = node({ nodeUrl: 'http://free', models: ['gemini-3-flash'], weight: 5 }, now);
  const pro = node(
    { nodeUrl: 'http://pro', models: ['gemini-3.0-pro'], modelAliases: ['gemini-3-pro'] },
    now,
  );
  const seed = node({ nodeUrl: 'http://seed', models: [] }, now);

  it('takes only nodes that list the model, by name or alias; a node listing none serves any', () => {
    expect(pick([free, pro], now, { nodeFreshMs: 15_000, model: 'gemini-3-pro' }).nodeUrl).toBe(
      'http://pro',
    );
    expect(servesModel(seed, 'anything')).toBe(true);
    expect(servesModel(free, 'gemini-3-pro')).toBe(false);
  });

  it('throws 404 model_not_found when live nodes lack it, but 503 when no node is live', () => {
    expect(() => pick([free, pro], now, { nodeFreshMs: 15_000, model: 'x' })).toThrow(
      expect.objectContaining({ status: 404, code: 'model_not_found' }),
    );
    const stale = node({ lastHeartbeatMs: now - 60_000, models: ['gemini-3-flash'] }, now);
    expect(() => pick([stale], now, { nodeFreshMs: 15_000, model: 'x' })).toThrow(
      expect.objectContaining({ status: 503 }),
    );
  });
});
