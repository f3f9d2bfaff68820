/**
 * Test fixtures for the gateway: node rows, an in-memory binding store, OpenAI bodies, metrics.
 */
import {
  type Binding,
  type BindingStore,
  type GatewayMetrics,
  type NodeRecord,
} from '../../../src/gateway/index.ts';

/** A healthy, logged-in, fresh node; override anything. */
export function node(overrides: Partial<NodeRecord> = {}, now = Date.now()): NodeRecord {
  return {
    nodeUrl: 'http://10.0.0.1:8000',
    workerId: 'w1',
    account: 'a1',
    weight: 1,
    status: 'HEALTHY',
    loginState: 'logged_in',
    lastHeartbeatMs: now - 1000,
    cooldownUntilMs: null,
    cooldownReason: null,
    currentTasks: 0,
    dispatchedTasks: 0,
    queueWaiting: 0,
    version: '0.1.0',
    models: ['gemini-2.5-flash'],
    createdAtMs: now - 60_000,
    ...overrides,
  };
}

/** Bindings in a Map, with the saves it saw. */
export class MemoryBindings implements BindingStore {
  readonly map = new Map<string, Binding>();
  readonly saves: { keys: readonly string[]; binding: Binding }[] = [];
  /** The keys of every lookup asked. */
  readonly lookups: (readonly string[])[] = [];
  private waiters: (() => void)[] = [];

  async lookup(keys: readonly string[]): Promise<Binding | null> {
    this.lookups.push(keys);
    for (const k of keys) {
      const b = this.map.get(k);
      if (b) {
        return b;
      }
    }
    return null;
  }

  async save(keys: readonly string[], binding: Binding): Promise<void> {
    this.saves.push({ keys, binding });
    keys.forEach((k) => this.map.set(k, binding));
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves once `count` saves happened. */
  async waitForSaves(count: number): Promise<void> {
    while (this.saves.length < count) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** A chat completion body. */
export function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'Hello' }],
    ...extra,
  });
}

/** An OpenAI chat completion JSON answering `text`. */
export function completion(text: string): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gemini-2.5-flash',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  });
}

/** One SSE chunk carrying `text` as a delta. */
export function sseChunk(text: string): string {
  const chunk = {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gemini-2.5-flash',
    choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The value of a counter or gauge sample with these labels, from the registry's JSON. */
export async function metricValue(
  metrics: GatewayMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const all = await metrics.registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, unknown> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Polls `check` every 10 ms for up to 2 s. */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!check()) {
    throw new Error(`timed out waiting for ${what}`);
  }
}
