/**
 * Which images a replayed conversation carries, and the note under each user message that says
 * which uploaded file is which. Gemini sees the files of one prompt as a flat list: without the
 * notes, an image from three turns ago reads as part of the current question. Over the image cap
 * the oldest earlier images are left out (the current turn's are always kept, as the turn is
 * about them), and the note says so rather than pretending they never existed.
 */
import type { TurnMessage } from './types.ts';

/** The images one prompt carries and the note under each user message. */
export interface ImagePlan {
  /** Image references in upload order. */
  readonly images: readonly string[];
  /** Earlier images left out to stay within the cap. */
  readonly omitted: number;
  /** The note under a user message, by message; absent when there is nothing to say. */
  readonly notes: ReadonlyMap<TurnMessage, string>;
}

type Located = { readonly message: TurnMessage; readonly url: string; readonly current: boolean };

/**
 * Plans the images of `messages` (earlier ones, then `current`): every current image, then the
 * most recent earlier ones while `maxImages` allows. Notes are written only when an earlier
 * message has an image, since a lone turn's images need no explaining.
 */
export function planImages(
  messages: readonly TurnMessage[],
  current: ReadonlySet<TurnMessage>,
  maxImages: number = Number.POSITIVE_INFINITY,
): ImagePlan {
  const all: Located[] = messages.flatMap((message) =>
    message.role === 'user'
      ? message.content.flatMap((p) =>
          p.type === 'image' ? [{ message, url: p.url, current: current.has(message) }] : [],
        )
      : [],
  );
  const currentCount = all.filter((i) => i.current).length;
  const earlier = all.length - currentCount;
  const omitted = Math.max(0, earlier - Math.max(0, maxImages - currentCount));
  let seenEarlier = 0;
  const kept = all.filter((i) => i.current || (seenEarlier += 1) > omitted);
  const notes = new Map<TurnMessage, string>();
  if (earlier > 0) {
    const numbers = new Map<TurnMessage, number[]>();
    kept.forEach((i, n) => numbers.set(i.message, [...(numbers.get(i.message) ?? []), n + 1]));
    const dropped = new Map<TurnMessage, number>();
    all
      .filter((i) => !kept.includes(i))
      .forEach((i) => dropped.set(i.message, (dropped.get(i.message) ?? 0) + 1));
    for (const message of new Set(all.map((i) => i.message))) {
      notes.set(message, noteFor(numbers.get(message) ?? [], dropped.get(message) ?? 0));
    }
  }
  return { images: kept.map((i) => i.url), omitted, notes };
}

function noteFor(numbers: readonly number[], dropped: number): string {
  const parts: string[] = [];
  if (numbers.length > 0) {
    const names = numbers.map((n) => `image ${n}`).join(', ');
    parts.push(`attached: ${names}`);
  }
  if (dropped > 0) {
    parts.push(
      `${dropped} image${dropped === 1 ? '' : 's'} omitted: only the most recent images fit ` +
        'the limit per request',
    );
  }
  return `(${parts.join('; ')})`;
}
