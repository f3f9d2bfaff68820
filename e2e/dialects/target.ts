/**
 * What a dialect's e2e cases run against: a worker or the gateway in front of it, with a real
 * key, and the emulator whose records prove how many prompts went upstream.
 */
import type { Emulator } from '../../src/emulator/index.ts';

/** One place the official SDKs are pointed at. */
export interface DialectTarget {
  /** `worker` or `gateway`, for test names. */
  readonly name: string;
  /** The service's origin, e.g. http://127.0.0.1:1234 (each SDK adds its own path). */
  readonly origin: string;
  readonly apiKey: string;
  readonly emulator: Emulator;
  /** The account of the worker behind the target. */
  readonly email: string;
  /**
   * Ends the worker's cooldown (its admin reset) and waits until the gateway sees the account
   * eligible again, so a 429 case leaves the shared stack as it found it.
   */
  resetCooldown(): Promise<void>;
  /** Resolves once the target itself sees the account cooling (the gateway reads it from the registry). */
  untilCooling(): Promise<void>;
}
