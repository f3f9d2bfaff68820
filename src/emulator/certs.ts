/**
 * TLS for the emulator: a CA kept in certDir (ca.pem, ca-key.pem; reused when present) and a
 * fresh leaf signed by it for every emulated host, wildcards included.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';

/** The names the leaf certificate covers. */
export const CERT_HOSTS: readonly string[] = [
  'gemini.google.com',
  'accounts.google.com',
  'www.google.com',
  'google.com',
  'content-push.googleapis.com',
  '*.googleusercontent.com',
  '*.usercontent.google.com',
  '*.fife.usercontent.google.com',
  'work.fife.usercontent.google.com',
  'localhost',
];

/** The server's key material. */
export interface TlsMaterial {
  caCertPath: string;
  caCertPem: string;
  key: string;
  cert: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** Loads or creates the CA in `certDir`, then issues a leaf for every host. */
export async function ensureTls(certDir: string): Promise<TlsMaterial> {
  await fs.mkdir(certDir, { recursive: true });
  const caCertPath = path.join(certDir, 'ca.pem');
  const caKeyPath = path.join(certDir, 'ca-key.pem');
  const ca = (await readCa(caCertPath, caKeyPath)) ?? (await claimCa(caCertPath, caKeyPath));
  const leaf = await generate([{ name: 'commonName', value: 'gemini.google.com' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - DAY_MS),
    notAfterDate: new Date(Date.now() + 365 * DAY_MS),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...CERT_HOSTS.map((value) => ({ type: 2 as const, value })),
          { type: 7 as const, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  await writeAtomic(path.join(certDir, 'leaf-key.pem'), leaf.private, 0o600);
  await writeAtomic(path.join(certDir, 'leaf.pem'), leaf.cert, 0o644);
  return { caCertPath, caCertPem: ca.cert, key: leaf.private, cert: leaf.cert };
}

async function readCa(
  certPath: string,
  keyPath: string,
): Promise<{ cert: string; key: string } | null> {
  try {
    const [cert, key] = await Promise.all([
      fs.readFile(certPath, 'utf8'),
      fs.readFile(keyPath, 'utf8'),
    ]);
    return cert.includes('BEGIN CERTIFICATE') && key.includes('PRIVATE KEY') ? { cert, key } : null;
  } catch {
    return null;
  }
}

/**
 * Creates the CA unless another process wins the race: the key is linked in exclusively, so
 * exactly one writer's pair lands and the losers read it.
 */
async function claimCa(certPath: string, keyPath: string): Promise<{ cert: string; key: string }> {
  const ca = await createCa();
  const tmpKey = await writeTemp(keyPath, ca.key, 0o600);
  try {
    await fs.link(tmpKey, keyPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw err;
    }
    return waitForCa(certPath, keyPath);
  } finally {
    await fs.rm(tmpKey, { force: true });
  }
  await fs.rename(await writeTemp(certPath, ca.cert, 0o644), certPath);
  return ca;
}

async function waitForCa(
  certPath: string,
  keyPath: string,
): Promise<{ cert: string; key: string }> {
  for (let i = 0; i < 50; i += 1) {
    const ca = await readCa(certPath, keyPath);
    if (ca) {
      return ca;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`CA key exists in ${path.dirname(keyPath)} but ca.pem never appeared`);
}

async function createCa(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'gemini-kasm emulator CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - DAY_MS),
    notAfterDate: new Date(Date.now() + 10 * 365 * DAY_MS),
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
  return { cert: pems.cert, key: pems.private };
}

async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  await fs.rename(await writeTemp(file, text, mode), file);
}

async function writeTemp(file: string, text: string, mode: number): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, text, { mode });
  return tmp;
}
