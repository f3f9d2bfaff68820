/** This build's version, from package.json (esbuild inlines it into dist/). */
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
