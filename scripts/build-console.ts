/**
 * Part of `npm run build`: writes the console's bundled script and styles to
 * dist/console-assets/, where the built gateway reads them (esbuild is not in production images).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PREBUILT_DIR, bundleConsoleAssets } from '../src/gateway/index.ts';

const out = path.resolve(import.meta.dirname, '..', 'dist', PREBUILT_DIR);
const assets = await bundleConsoleAssets();
await fs.mkdir(out, { recursive: true });
await fs.writeFile(path.join(out, 'console.js'), assets.js);
await fs.writeFile(path.join(out, 'console.css'), assets.css);
