/**
 * @module gateway/console/assets
 * The console's browser script and styles (client/, with uPlot and its CSS), bundled by esbuild:
 * `npm run build` writes them next to dist/main.js (build-assets.ts), and a gateway run from
 * source (tsx: tests, `npm run stack`) bundles them in memory once, at its first need. No CDN.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** The bundled script and styles. */
export interface ConsoleAssets {
  readonly js: string;
  readonly css: string;
}

/** Where `npm run build` puts the bundle, relative to the built gateway's own directory. */
export const PREBUILT_DIR = 'console-assets';
const CLIENT_ENTRY = path.join(import.meta.dirname, 'client', 'main.ts');

/** Bundles client/main.ts (and the CSS it imports) with esbuild, in memory. */
export async function bundleConsoleAssets(): Promise<ConsoleAssets> {
  // A development dependency: a production image has the prebuilt files instead.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    outdir: 'console',
    logLevel: 'silent',
  });
  const text = (ext: string): string =>
    result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  return { js: text('.js'), css: text('.css') };
}

async function readPrebuilt(): Promise<ConsoleAssets | null> {
  const dir = path.join(import.meta.dirname, PREBUILT_DIR);
  try {
    const [js, css] = await Promise.all([
      fs.readFile(path.join(dir, 'console.js'), 'utf8'),
      fs.readFile(path.join(dir, 'console.css'), 'utf8'),
    ]);
    return { js, css };
  } catch {
    return null;
  }
}

let cached: Promise<ConsoleAssets> | null = null;

/** The assets: the prebuilt files when present, else a bundle made once per process. */
export function loadConsoleAssets(): Promise<ConsoleAssets> {
  cached ??= readPrebuilt().then((prebuilt) => prebuilt ?? bundleConsoleAssets());
  // A failed bundle is tried again at the next request rather than cached.
  cached.catch(() => {
    cached = null;
  });
  return cached;
}
