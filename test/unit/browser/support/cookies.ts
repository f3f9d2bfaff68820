/** Cookie fixtures for the browser tests. */
import type { Cookie } from '../../../../src/gemini/index.ts';

/** A secure, httpOnly cookie for path /, on .google.com unless told otherwise. */
export const cookie = (name: string, value: string, domain = '.google.com'): Cookie => ({
  name,
  value,
  domain,
  path: '/',
  secure: true,
  httpOnly: true,
});
