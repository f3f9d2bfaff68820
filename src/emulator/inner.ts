/**
 * The inner arrays StreamGenerate sends inside `wrb.fr` envelopes, at the paths of the protocol
 * doc §4: ids at inner[1], candidates at inner[4], the context token at inner[25], the title and
 * model name in the sparse trailing-object form.
 */

/** A turn's ids. */
export interface TurnIds {
  cid: string;
  rid: string;
  rcid: string;
}

/** One cumulative state of the candidate. */
export interface CandidateSnapshot {
  text: string;
  cardText: string | null;
  thoughts: string | null;
  done: boolean;
}

/** A generated image (cand[12][7][0][i]). */
export interface GeneratedImagePart {
  url: string;
  alt: string;
  imageId: string;
}

/** A web image (cand[12][1][i]). */
export interface WebImagePart {
  url: string;
  alt: string;
  title: string;
}

/** What only the final frame carries. */
export interface FinalParts {
  contextToken: string;
  modelName: string;
  generatedImage: GeneratedImagePart | null;
  webImage: WebImagePart | null;
}

/** An ids-only frame, as Gemini sends before the first text. */
export function idsInner(ids: TurnIds): unknown[] {
  return [null, [ids.cid, ids.rid]];
}

/** A metadata frame carrying the chat title in sparse form (field 11 = index 10). */
export function titleInner(ids: TurnIds, title: string): unknown[] {
  return [null, [ids.cid, ids.rid], { '11': [title], '44': false }];
}

/** A snapshot frame; the final one also carries images, the context token and model name. */
export function snapshotInner(
  ids: TurnIds,
  snap: CandidateSnapshot,
  final?: FinalParts,
): unknown[] {
  const cand = positional([
    [0, ids.rcid],
    [1, [snap.text]],
    [8, [snap.done ? 2 : 1]],
    [12, final ? imagesSlot(final) : null],
    [22, snap.cardText === null ? null : [snap.cardText]],
    [37, snap.thoughts === null ? null : [[snap.thoughts]]],
  ]);
  if (!final) {
    return [null, [ids.cid, ids.rid], null, null, [cand]];
  }
  const inner = positional([
    [1, [ids.cid, ids.rid]],
    [4, [cand]],
    [25, final.contextToken],
  ]);
  // Field 43 = index 42, the model display name, sent sparse.
  inner.push({ '43': final.modelName });
  return inner;
}

function imagesSlot(final: FinalParts): unknown[] | null {
  const gen = final.generatedImage;
  const web = final.webImage;
  if (!gen && !web) {
    return null;
  }
  return positional([
    [1, web ? [webImageEntry(web)] : null],
    [7, gen ? [[generatedImageEntry(gen)]] : null],
  ]);
}

/** URL [0][0][0], alt [0][4], title [7][0]. */
function webImageEntry(web: WebImagePart): unknown[] {
  return [[[web.url], null, null, null, web.alt], null, null, null, null, null, null, [web.title]];
}

/** URL [0][3][3], alt [0][3][2] (legacy [3][5][0]), number [3][6], id [1][0]. */
function generatedImageEntry(gen: GeneratedImagePart): unknown[] {
  return [
    [null, null, null, [null, null, gen.alt, gen.url]],
    [gen.imageId],
    null,
    [null, null, null, null, null, [gen.alt], 1],
  ];
}

/** An array with `value` at each index, null elsewhere, ending at the last non-null entry. */
function positional(entries: readonly (readonly [number, unknown])[]): unknown[] {
  const set = entries.filter(([, v]) => v !== null && v !== undefined);
  const length = set.reduce((max, [i]) => Math.max(max, i + 1), 0);
  const out: unknown[] = new Array<unknown>(length).fill(null);
  for (const [i, v] of set) {
    out[i] = v;
  }
  return out;
}
