/**
 * The response shapes this client knows, one named row per layout, each naming the protocol
 * versions that send it (protocol doc §4, §5). Google moves fields without notice: when it does,
 * a new row goes here, in front of the ones it replaces, and nothing else changes. Paths are JSPB field indexes read by jspb.ts, so a
 * field sent positionally or in a sparse trailing object (`{"26": …}` for index 25) matches the
 * same path; a row is only needed when a field really moves, or the message changes its form.
 */

/** A field's place: indexes (or keys) from the outside in. */
export type JspbPath = readonly (number | string)[];

/** Where a candidate (one answer) keeps its fields. */
export interface CandidatePaths {
  /** `rc_<16hex>`: a candidate without it is not an answer. */
  readonly rcid: JspbPath;
  /** Markdown, cumulative. */
  readonly text: JspbPath;
  /** The real text when `text` is only a `card_content` placeholder. */
  readonly cardText: JspbPath;
  readonly thoughts: JspbPath;
  /** Finish state: 1 generating, 2 complete. */
  readonly status: JspbPath;
  /** The list of web images (each: URL `[0][0][0]`, alt `[0][4]`, title `[7][0]`). */
  readonly webImages: JspbPath;
  /**
   * Lists of generated images, read in order and merged by URL (each: URL `[0][3][3]`, alt
   * `[0][3][2]` or the legacy `[3][5][i]`, id `[1][0]`).
   */
  readonly generatedImages: readonly JspbPath[];
}

/** How a `wrb.fr` payload is laid out in one protocol version. */
export interface PayloadShape {
  /** Named in logs and tests. */
  readonly name: string;
  /** Which protocol versions send it, and where the protocol doc says so. */
  readonly seenIn: string;
  /** The message's outer form: a JSPB array (maybe with a sparse tail), or wholly keyed. */
  readonly message: 'array' | 'keyed';
  readonly cid: JspbPath;
  readonly rid: JspbPath;
  /** The candidate list; the first candidate with an rcid is the answer. */
  readonly candidates: JspbPath;
  /** The context token, present once the turn is saved. */
  readonly contextToken: JspbPath;
  /** The model's display name echoed back: a string, or a list whose first item is one. */
  readonly modelName: JspbPath;
  readonly candidate: CandidatePaths;
}

/** The candidate fields of every version since gemini_webapi v1.17.3 (doc §4). */
const CANDIDATE_V2: CandidatePaths = {
  rcid: [0],
  text: [1, 0],
  cardText: [22, 0],
  thoughts: [37, 0, 0],
  status: [8, 0],
  webImages: [12, 1],
  // Newer replies (and image-to-image edits) send cand[12][7] in cand[12]'s sparse tail as
  // {"8": …} (doc §4 "cand[12][0]["8"][0]"): the first path reads that too. The second reads an
  // "8"-keyed object that is not the last element of cand[12].
  generatedImages: [
    [12, 7, 0],
    [12, 0, '8', 0],
  ],
};

const MESSAGE_V2 = {
  cid: [1, 0],
  rid: [1, 1],
  candidates: [4],
  contextToken: [25],
  modelName: [42],
  candidate: CANDIDATE_V2,
} as const;

/**
 * Every known payload shape, in the order they are tried; the first that matches wins and is
 * tried first for the rest of the stream.
 */
export const PAYLOAD_SHAPES: readonly PayloadShape[] = [
  {
    name: 'jspb-array',
    seenIn:
      'gemini_webapi v2.0 (rt=c snapshots, 69- and 102-slot requests) and v1.17.3 (one unframed line): doc §4 inner paths',
    message: 'array',
    ...MESSAGE_V2,
  },
  {
    name: 'jspb-keyed',
    seenIn:
      'not seen from Google yet: the sparse JSPB form (doc §4 "Sparse JSPB") taken whole, every field keyed by its number',
    message: 'keyed',
    ...MESSAGE_V2,
  },
];

/**
 * Where an rpc status (`envelope[5]`) keeps its code and details: `[rpc, null, details]`, the
 * same keyed by field number (`{"1": rpc, "3": details}`), or a bare `[rpc]` without details,
 * which is a queueing or failure status rather than an error (doc §5).
 */
export const STATUS_PATHS = { rpcCode: [0], details: [2] } as const satisfies Record<
  string,
  JspbPath
>;

/** How an rpc status at `envelope[5]` carries its BardErrorInfo code (doc §5). */
export interface ErrorShape {
  readonly name: string;
  readonly seenIn: string;
  /** Which detail types it reads; the detail list is searched in order. */
  readonly detailType: RegExp;
  /** Where the code sits in the detail's body (`detail[1]`). */
  readonly code: JspbPath;
}

/** Every known error shape, tried in order on each detail of the status. */
export const ERROR_SHAPES: readonly ErrorShape[] = [
  {
    name: 'bard-error-info',
    seenIn: 'doc §4/§5: [rpc, null, [["…BardErrorInfo", [code]]]], the code at [5][2][0][1][0]',
    detailType: /BardErrorInfo$/,
    code: [0],
  },
  {
    name: 'bard-error-info-named',
    seenIn: 'a BardErrorInfo body as a JSON object with a named `code`',
    detailType: /BardErrorInfo$/,
    code: ['code'],
  },
  {
    name: 'untyped-detail',
    seenIn: 'a detail with no type URL whose body still holds the code first',
    detailType: /^$/,
    code: [0],
  },
  {
    name: 'untyped-detail-named',
    seenIn: 'a detail with no type URL whose body names the code',
    detailType: /^$/,
    code: ['code'],
  },
];
