/**
 * Images in an answer become Markdown links. Generated images need the account's cookies, so they
 * are downloaded once, stored, and linked from this worker's /images; web images are public.
 */
import type { ResponseImage } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';
import type { FileBackend } from './backend.ts';
import type { ImageStore } from './images.ts';

interface ImageDeps {
  readonly files: FileBackend;
  readonly images: ImageStore;
  readonly logger: Logger;
}

const altText = (s: string) => s.replace(/[[\]\n]/g, ' ').trim();

/** Markdown for the answer's images (empty when there are none). */
export async function renderImages(
  images: readonly ResponseImage[],
  deps: ImageDeps,
  baseUrl: string,
  signal: AbortSignal,
  owner = 'anonymous',
): Promise<string> {
  const lines: string[] = [];
  for (const [i, img] of images.entries()) {
    const alt = altText(img.alt) || `Image ${i + 1}`;
    if (img.kind === 'web') {
      lines.push(`![${alt}](${img.url})`);
      continue;
    }
    try {
      const { data, contentType } = await deps.files.fetchImage(img.url, signal);
      const rel = await deps.images.save(data, contentType, new Date(), owner);
      lines.push(`![${alt}](${baseUrl}/images/${rel})`);
    } catch (err) {
      deps.logger.warn('could not download a generated image', { err });
      lines.push(`*(Image ${i + 1} could not be downloaded.)*`);
    }
  }
  return lines.length === 0 ? '' : `\n\n${lines.join('\n\n')}`;
}
