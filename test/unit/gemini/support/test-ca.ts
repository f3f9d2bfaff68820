/**
 * A throw-away certificate authority and a server certificate it signed, for HTTPS servers that
 * stand in for Google's hosts in tests.
 */
import { generate } from 'selfsigned';

export interface TestCertificates {
  /** The CA certificate (PEM): what a client must trust. */
  caCert: string;
  /** Server key and certificate (PEM), valid for `hosts`. */
  key: string;
  cert: string;
}

/** The Google hosts our tests map to local servers. */
export const GOOGLE_TEST_HOSTS = [
  'www.google.com',
  'gemini.google.com',
  'accounts.google.com',
  'content-push.googleapis.com',
  'lh3.googleusercontent.com',
  'work.fife.usercontent.google.com',
];

/** Generates a CA and a server certificate for `hosts` (EC keys: fast). */
export async function createTestCertificates(
  hosts: readonly string[] = GOOGLE_TEST_HOSTS,
): Promise<TestCertificates> {
  const ca = await generate([{ name: 'commonName', value: 'gemini-kasm test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      {
        name: 'keyUsage',
        keyCertSign: true,
        cRLSign: true,
        digitalSignature: true,
        critical: true,
      },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return { caCert: ca.cert, key: leaf.private, cert: leaf.cert };
}
