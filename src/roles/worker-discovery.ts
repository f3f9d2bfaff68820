/**
 * The worker's watch over its account's protocol: model discovery (otAQ7b on a timer, the list
 * the API serves) and the canary (a tiny prompt), both through the account's queue and both
 * feeding the drift tally. Neither calls while the account cools down or is signed out.
 */
import { randomUUID } from 'node:crypto';
import type { AccountState } from '../account/index.ts';
import type { Config } from '../config.ts';
import { Canary, ModelDiscovery, type DriftTally } from '../discovery/index.ts';
import { DEFAULT_MODEL, type GeminiClient } from '../gemini/index.ts';
import { childLogger, type Logger } from '../logging.ts';
import type { ChatQueue } from '../queue/index.ts';

/** Discovery and canary of one worker. */
export interface AccountWatch {
  readonly discovery: ModelDiscovery;
  readonly canary: Canary;
  close(): Promise<void>;
}

/** Starts discovery (at once) and the canary (when GEMINI_CANARY_INTERVAL_S > 0). */
export function startAccountWatch(deps: {
  readonly config: Readonly<Config>;
  readonly client: GeminiClient;
  readonly account: AccountState;
  readonly queue: ChatQueue;
  readonly drift: DriftTally;
  readonly logger: Logger;
}): AccountWatch {
  const usable = (): boolean => {
    const phase = deps.account.snapshot().phase;
    return phase !== 'cooling' && phase !== 'login_required';
  };
  const onDrift = (kind: Parameters<DriftTally['record']>[0]) => deps.drift.record(kind);
  const discovery = new ModelDiscovery({
    // An rpc job in the account's line: it waits behind chats and never overlaps one.
    fetchStatus: (signal) => deps.queue.call({ rpcId: 'otAQ7b', payload: [] }, signal),
    intervalMs: deps.config.discoveryIntervalMs,
    // The wait behind chats counts, then the call itself.
    timeoutMs: deps.config.queue.waitMs + deps.config.stallTimeoutMs,
    // Not even in the half-open window: a status read must not take the probe from a chat.
    mayCall: () => deps.account.snapshot().phase === 'ready',
    // The page's lists as this process's client last read them (the rpc job usually runs here).
    pageModels: () => deps.client.pageModels(),
    onDrift,
    logger: childLogger(deps.logger, 'discovery'),
  });
  const canary = new Canary({
    intervalMs: deps.config.canaryIntervalMs,
    ask: async (prompt, signal) => {
      const job = {
        requestId: `canary-${randomUUID()}`,
        model: DEFAULT_MODEL,
        prompt,
        inputs: [],
        chat: null,
        replayPrompt: null,
        owner: 'canary',
      };
      let text = '';
      for await (const event of deps.queue.stream(job, signal)) {
        text += event.type === 'text' ? event.delta : '';
      }
      return text;
    },
    mayRun: usable,
    onDrift,
    logger: childLogger(deps.logger, 'canary'),
  });
  discovery.start();
  canary.start();
  return {
    discovery,
    canary,
    close: async () => {
      await Promise.allSettled([discovery.close(), canary.close()]);
    },
  };
}
