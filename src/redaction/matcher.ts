/**
 * Aho–Corasick over a fixed set of strings: one pass over a text finds every occurrence of every
 * value, so a log line costs the same however many values there are. Built once per change of the
 * set, never per line.
 */

/** Finds the spans of a fixed set of values in a text. */
export class SecretMatcher {
  /** Goto edges, keyed by `state * 65536 + charCode` so one Map serves the whole trie. */
  private readonly edges = new Map<number, number>();
  private readonly fail: number[] = [0];
  /** Length of the longest value that ends at this state (through fail links too); 0 for none. */
  private readonly longest: number[] = [0];
  /** Shortest value length: shorter texts cannot hold one. */
  readonly minLength: number;

  constructor(values: Iterable<string>) {
    let min = Number.POSITIVE_INFINITY;
    for (const value of values) {
      if (value.length > 0) {
        this.insert(value);
        min = Math.min(min, value.length);
      }
    }
    this.minLength = min;
    this.link();
  }

  /** Number of trie states: bounded by the total length of the values. */
  get size(): number {
    return this.fail.length;
  }

  /** Merged [start, end) spans of every value found in `text`, in order. */
  find(text: string): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    if (text.length < this.minLength) {
      return spans;
    }
    let state = 0;
    for (let i = 0; i < text.length; i += 1) {
      const code = text.charCodeAt(i);
      let next = this.edges.get(state * 65536 + code);
      while (next === undefined && state !== 0) {
        state = this.fail[state]!;
        next = this.edges.get(state * 65536 + code);
      }
      state = next ?? 0;
      const len = this.longest[state]!;
      if (len > 0) {
        spans.push([i + 1 - len, i + 1]);
      }
    }
    return spans.length > 1 ? mergeSpans(spans) : spans;
  }

  private insert(value: string): void {
    let state = 0;
    for (let i = 0; i < value.length; i += 1) {
      const key = state * 65536 + value.charCodeAt(i);
      let next = this.edges.get(key);
      if (next === undefined) {
        next = this.fail.length;
        this.fail.push(0);
        this.longest.push(0);
        this.edges.set(key, next);
      }
      state = next;
    }
    this.longest[state] = Math.max(this.longest[state]!, value.length);
  }

  /** Breadth-first: each state's fail link is the longest proper suffix that is also a prefix. */
  private link(): void {
    const children = new Map<number, Array<[number, number]>>();
    for (const [key, child] of this.edges) {
      const parent = Math.floor(key / 65536);
      let list = children.get(parent);
      if (!list) {
        list = [];
        children.set(parent, list);
      }
      list.push([key % 65536, child]);
    }
    const queue: number[] = [0];
    for (let head = 0; head < queue.length; head += 1) {
      const state = queue[head]!;
      for (const [code, child] of children.get(state) ?? []) {
        queue.push(child);
        if (state === 0) {
          continue;
        }
        let f = this.fail[state]!;
        let target = this.edges.get(f * 65536 + code);
        while (target === undefined && f !== 0) {
          f = this.fail[f]!;
          target = this.edges.get(f * 65536 + code);
        }
        this.fail[child] = target ?? 0;
        this.longest[child] = Math.max(this.longest[child]!, this.longest[this.fail[child]]!);
      }
    }
  }
}

/** Sorts spans by start and merges those that overlap or touch. */
function mergeSpans(spans: Array<[number, number]>): Array<[number, number]> {
  spans.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const span of spans) {
    const last = out.at(-1);
    if (last && span[0] <= last[1]) {
      last[1] = Math.max(last[1], span[1]);
    } else {
      out.push(span);
    }
  }
  return out;
}
