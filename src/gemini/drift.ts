/**
 * Protocol drift: every way a Google reply can fail to match what the parsers know, by kind.
 * Each kind is counted (gk_protocol_drift_total{kind}) and named in the error a request gets, so
 * that a changed protocol is noticed the day it changes, not in a pile of vague 502s.
 */

/** Why a reply did not parse. */
export type DriftKind =
  /** A frame or line that is not JSON. */
  | 'frame_unparsable'
  /** A JSON frame that is not an array of envelopes. */
  | 'frame_not_array'
  /** An envelope whose tag no parser knows (known: wrb.fr, e, di, af.httprm). */
  | 'envelope_unknown'
  /** A `wrb.fr` payload string that is not JSON. */
  | 'payload_not_json'
  /** A `wrb.fr` payload that is JSON but not an array. */
  | 'payload_shape'
  /** Candidates present, none of them with an rcid where one is read. */
  | 'candidate_shape'
  /** An error status whose detail holds no code where one is read. */
  | 'error_shape'
  /** A batchexecute reply without the envelope of the RPC asked for. */
  | 'rpc_missing'
  /** otAQ7b: no status code where one is read. */
  | 'account_status_shape'
  /** otAQ7b: no model list, or entries without an id, where they are read. */
  | 'account_models_shape'
  /** The canary's prompt got no answer text. */
  | 'canary_no_answer'
  /** A signed-in /app page without its `fast=`/`thinking=` model lists, or with unreadable ids. */
  | 'page_models_shape';

/** Every kind, so that a counter starts each at 0. */
export const DRIFT_KINDS: readonly DriftKind[] = [
  'frame_unparsable',
  'frame_not_array',
  'envelope_unknown',
  'payload_not_json',
  'payload_shape',
  'candidate_shape',
  'error_shape',
  'rpc_missing',
  'account_status_shape',
  'account_models_shape',
  'canary_no_answer',
  'page_models_shape',
];

/** Where drift is reported. */
export type DriftSink = (kind: DriftKind) => void;

/** A sentence for an error that names the drift seen. */
export function describeDrift(kinds: readonly DriftKind[]): string {
  const unique = [...new Set(kinds)];
  return `Gemini answered in a shape this worker does not understand (protocol drift: ${unique.join(', ')}); the Gemini web protocol may have changed.`;
}
