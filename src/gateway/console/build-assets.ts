/**
 * @module gateway/console/build-assets
 * Part of `npm run build` (here in src/, because the image builds from src/ alone): writes the
 * console's bundled script and styles to `<outDir>/console-assets/`, where the built gateway
 * reads them, since production images have no esbuild. Usage: build-assets.ts <outDir>.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PREBUILT_DIR, bundleConsoleAssets } from './assets.ts';

const outDir = process.argv[2];
if (!outDir) {
  throw new Error('usage: build-assets.ts <outDir>');
}
const out = path.resolve(outDir, PREBUILT_DIR);
const assets = await bundleConsoleAssets();
await fs.mkdir(out, { recursive: true });
await fs.writeFile(path.join(out, 'console.js'), assets.js);
await fs.writeFile(path.join(out, 'console.css'), assets.css);
