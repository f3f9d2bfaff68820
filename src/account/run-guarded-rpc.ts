/**
 * The account's policy around one batchexecute call (model discovery's otAQ7b). It runs in the
 * account's line like a chat (DESIGN.md, one line per account) and its failures say the same
 * things about the account: a 429 or /sorry cools it down, a session that stays rejected after
 * the client's one refresh marks it signed out. It never probes a cooldown: a status call that
 * succeeds proves nothing about StreamGenerate, so it would end a cooldown on false evidence.
 * It is never repeated here either; the caller asks again on its own timer.
 */
import { isGeminiError } from '../gemini/index.ts';
import { probingError } from './cooldown.ts';
import type { AccountGuard } from './types.ts';

/** The upstream call, injected: the gemini client's `rpc`, or a fake in tests. */
export type CallRpc = (rpcId: string, payload: unknown, signal: AbortSignal) => Promise<unknown>;

/** What runGuardedRpc needs. */
export interface RpcGuardDeps {
  readonly account: AccountGuard;
  readonly rpc: CallRpc;
}

/**
 * Admits the call (429 while cooling, 503 while signed out, 429 account_probing in the half-open
 * window), runs it, and applies a classified failure to the account before rethrowing it.
 */
export async function runGuardedRpc(
  call: { readonly rpcId: string; readonly payload: unknown },
  deps: RpcGuardDeps,
  signal: AbortSignal,
): Promise<unknown> {
  signal.throwIfAborted();
  const { account } = deps;
  const admission = await account.admit();
  if (admission.probe) {
    await account.release(admission);
    throw probingError(5);
  }
  try {
    const payload = await deps.rpc(call.rpcId, call.payload, signal);
    await account.release(admission);
    return payload;
  } catch (err) {
    if (signal.aborted || !isGeminiError(err)) {
      await account.release(admission);
      throw err;
    }
    switch (err.kind) {
      case 'quota':
      case 'ip_blocked':
        throw err.withRetryAfter(await account.coolDown(err.kind, admission));
      case 'auth':
        throw err.withRetryAfter(await account.markLoginRequired(admission));
      default:
        // A transient failure of a side call does not rest the account: users' chats decide that.
        await account.release(admission);
        throw err;
    }
  }
}
