/**
 * A "person" signing a Chromium in to an emulator account, as they would over VNC.
 */
import { signInWithEmulator } from '../../../scripts/lib/index.ts';

/** Signs the Chromium behind `cdpUrl` in as `email`; resolves with the time the sign-in landed. */
export async function signInAsPerson(
  cdpUrl: string,
  email: string,
  timeoutMs = 20_000,
): Promise<number> {
  await signInWithEmulator(cdpUrl, email, timeoutMs);
  return Date.now();
}
