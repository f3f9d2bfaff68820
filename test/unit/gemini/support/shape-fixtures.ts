/** Shape fixtures built from the protocol doc's synthesized example (§4). */
import { SYNTHESIZED_EXAMPLE } from './wire-fixtures.ts';

/** The BardErrorInfo detail type URL. */
export const INFO = 'type.googleapis.com/assistant.boq.bard.application.BardErrorInfo';

/** A `wrb.fr` envelope carrying only an rpc status at [5]. */
export const statusEnvelope = (status: unknown): unknown[] => [
  'wrb.fr',
  null,
  null,
  null,
  null,
  status,
];

/** The doc's second synthesized frame, decoded: the finished answer with its context token. */
export const DOC_FINAL = (() => {
  const line = SYNTHESIZED_EXAMPLE.split('\n')[5] ?? '';
  const envelope = (JSON.parse(line) as unknown[][])[0] ?? [];
  return JSON.parse(String(envelope[2])) as unknown[];
})();

/** The same message with every field keyed by its number (index + 1). */
export function keyed(message: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  message.forEach((v, i) => {
    if (v !== null) {
      out[String(i + 1)] = v;
    }
  });
  return out;
}
