/**
 * Images in an answer become Markdown links. Generated images need the account's cookies, so the
 * job downloads each one inside the account's line (storeGeneratedImages) and stores it; the
 * answer links it from this worker's /images. Web images are public and linked where they are.
 */
import type { GenerateResult, ResponseImage } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';
import type { ImageStore } from './images.ts';

/** What downloading generated images needs: the account's cookie-carrying fetch and a store. */
export interface ImageDeps {
  fetchImage(url: string, signal?: AbortSignal): Promise<{ data: Buffer; contentType: string }>;
  readonly images: ImageStore;
  readonly logger: Logger;
}

const altText = (s: string) => s.replace(/[[\]\n]/g, ' ').trim();

/** Downloads the result's generated images into the store; a failed one stays unstored. */
export async function storeGeneratedImages(
  result: GenerateResult,
  deps: ImageDeps,
  signal: AbortSignal,
  owner: string,
): Promise<GenerateResult> {
  const images: ResponseImage[] = [];
  for (const img of result.images) {
    if (img.kind !== 'generated') {
      images.push(img);
      continue;
    }
    try {
      const { data, contentType } = await deps.fetchImage(img.url, signal);
      images.push({ ...img, stored: await deps.images.save(data, contentType, new Date(), owner) });
    } catch (err) {
      deps.logger.warn('could not download a generated image', { err });
      images.push({ ...img, stored: null });
    }
  }
  return { ...result, images };
}

/** Markdown for the answer's images (empty when there are none). */
export function renderImages(images: readonly ResponseImage[], baseUrl: string): string {
  const lines = images.map((img, i) => {
    const alt = altText(img.alt) || `Image ${i + 1}`;
    if (img.kind === 'web') {
      return `![${alt}](${img.url})`;
    }
    return img.stored
      ? `![${alt}](${baseUrl}/images/${img.stored})`
      : `*(Image ${i + 1} could not be downloaded.)*`;
  });
  return lines.length === 0 ? '' : `\n\n${lines.join('\n\n')}`;
}
