/**
 * The model ids the emulator accepts in `x-goog-ext-525001261-jspb` (the protocol doc's table);
 * any other id answers 1052, as a stale header does upstream.
 */

/** A known upstream model. */
export interface EmulatedModel {
  readonly id: string;
  readonly displayName: string;
  readonly description: string;
  readonly thinking: boolean;
}

const model = (id: string, displayName: string, thinking = false): EmulatedModel => ({
  id,
  displayName,
  description: thinking ? 'Thinks before answering' : 'Answers quickly',
  thinking,
});

/** Every accepted model id. */
export const MODELS: readonly EmulatedModel[] = [
  model('9d8ca3786ebdfbea', '3 Pro'),
  model('fbb127bbb056c959', '3 Flash'),
  model('5bf011840784117a', '3 Flash Thinking', true),
  model('e6fa609c3fa255c0', '3 Pro'),
  model('56fdd199312815e2', '3 Flash'),
  model('e051ce1aa80aa576', '3 Flash Thinking', true),
  model('8c46e95b1a07cecc', '3 Flash Lite'),
  model('4af6c7f5da75d65d', '2.5 Pro'),
  model('9ec249fc9ad08861', '2.5 Flash'),
  model('71c2d248d3b102ff', '2.5 Flash'),
  model('2525e3954d185b3c', '2.5 Pro'),
  model('f299729663a2343f', '2.0 Flash'),
  model('7ca48d02d802f20a', '2.0 Flash Thinking', true),
];

/** The model the server picks when no header is sent. */
export const DEFAULT_MODEL: EmulatedModel = model('', '3 Flash');

/** What the model header asked for. */
export type ModelChoice =
  | { kind: 'default' }
  | { kind: 'known'; model: EmulatedModel; tail: number | null }
  | { kind: 'invalid'; id: string | null };

/** Reads the model header: absent or without an id -> default; unknown id -> invalid. */
export function chooseModel(header: string | undefined): ModelChoice {
  if (header === undefined || header.trim() === '') {
    return { kind: 'default' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return { kind: 'invalid', id: null };
  }
  if (!Array.isArray(parsed)) {
    return { kind: 'invalid', id: null };
  }
  const id: unknown = parsed[4];
  if (id === null || id === undefined) {
    return { kind: 'default' };
  }
  if (typeof id !== 'string') {
    return { kind: 'invalid', id: JSON.stringify(id) };
  }
  const found = MODELS.find((m) => m.id === id);
  return found ? { kind: 'known', model: found, tail: tailOf(parsed) } : { kind: 'invalid', id };
}

/** The capacity tail: slot 11 of the 12-slot form, slot 12 of the 13-slot one; null before. */
function tailOf(header: readonly unknown[]): number | null {
  const last: unknown = header.length >= 12 ? header[header.length - 1] : null;
  return typeof last === 'number' ? last : null;
}
