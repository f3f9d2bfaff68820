/**
 * One answer candidate read through a shape's paths (shapes.ts): rcid, cleaned text, thoughts,
 * finish state and images. Every read is tolerant; a candidate without an rcid is not an answer.
 */
import { jspbArray, jspbNumber, jspbString } from './jspb.ts';
import { PAYLOAD_SHAPES, type CandidatePaths } from './shapes.ts';
import type { GeneratedImage, ResponseImage, WebImage } from './types.ts';

/** The answer candidate of one snapshot. Text and thoughts are cumulative. */
export interface ParsedCandidate {
  rcid: string;
  /** Cleaned Markdown: card_content resolved, placeholder URLs removed. */
  text: string;
  thoughts: string;
  /** 1 generating, 2 complete; null when absent. */
  status: number | null;
  images: ResponseImage[];
}

const PLACEHOLDER_RE = /http:\/\/googleusercontent\.com\/\w+\/\d+/g;
const CARD_CONTENT_RE = /http:\/\/googleusercontent\.com\/card_content\/\d+/;
const DEFAULT_PATHS: CandidatePaths = (PAYLOAD_SHAPES[0] as { candidate: CandidatePaths })
  .candidate;

/** Removes `http://googleusercontent.com/<kind>/<n>` placeholders from answer text. */
export function stripPlaceholders(text: string): string {
  return text.replace(PLACEHOLDER_RE, '');
}

/** The first candidate of a list that has an rcid (the answer), or null. */
export function firstCandidate(list: unknown, paths: CandidatePaths): ParsedCandidate | null {
  if (!Array.isArray(list)) {
    return null;
  }
  for (const cand of list) {
    const parsed = parseCandidate(cand, paths);
    if (parsed) {
      return parsed;
    }
  }
  return null;
}

/** One candidate; null unless it has an rcid (the first that has one is the answer). */
export function parseCandidate(
  cand: unknown,
  paths: CandidatePaths = DEFAULT_PATHS,
): ParsedCandidate | null {
  const rcid = jspbString(cand, ...paths.rcid);
  if (!rcid) {
    return null;
  }
  let text = jspbString(cand, ...paths.text) ?? '';
  if (CARD_CONTENT_RE.test(text)) {
    // The visible text is only a card placeholder; the real text travels elsewhere.
    text = jspbString(cand, ...paths.cardText) ?? text;
  }
  return {
    rcid,
    text: stripPlaceholders(text),
    thoughts: jspbString(cand, ...paths.thoughts) ?? '',
    status: jspbNumber(cand, ...paths.status) ?? null,
    images: [...webImages(cand, paths), ...generatedImages(cand, paths)],
  };
}

function webImages(cand: unknown, paths: CandidatePaths): WebImage[] {
  const out: WebImage[] = [];
  for (const img of jspbArray(cand, ...paths.webImages)) {
    const url = jspbString(img, 0, 0, 0);
    if (url) {
      out.push({
        kind: 'web',
        url,
        alt: jspbString(img, 0, 4) ?? '',
        title: jspbString(img, 7, 0) ?? '',
      });
    }
  }
  return out;
}

function generatedImages(cand: unknown, paths: CandidatePaths): GeneratedImage[] {
  const out: GeneratedImage[] = [];
  for (const path of paths.generatedImages) {
    jspbArray(cand, ...path).forEach((img, i) => {
      const url = jspbString(img, 0, 3, 3);
      if (url && !out.some((o) => o.url === url)) {
        const alt =
          jspbString(img, 0, 3, 2) ?? jspbString(img, 3, 5, i) ?? jspbString(img, 3, 5, 0) ?? '';
        out.push({ kind: 'generated', url, alt, imageId: jspbString(img, 1, 0) ?? null });
      }
    });
  }
  return out;
}
