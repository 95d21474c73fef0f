import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createCertificate, type CertificateAndKey } from './certificates';
import { makeTempFolder } from '../temp-folders';

export interface ServerTlsMaterial {
  certPem: string;
  keyPem: string;
  caPem: string | null;
  caFile: string | null;
  /** A temp folder the simulator created and must remove on stop. */
  tempDir: string | null;
}

const CA_CERT = 'ca.pem';
const CA_KEY = 'ca.key.pem';
const SERVER_CERT = 'server.pem';
const SERVER_KEY = 'server.key.pem';

async function readPair(dir: string, certName: string, keyName: string): Promise<CertificateAndKey | null> {
  try {
    const [certPem, keyPem] = await Promise.all([fs.readFile(path.join(dir, certName), 'utf8'), fs.readFile(path.join(dir, keyName), 'utf8')]);
    return { certPem, keyPem };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function writePair(dir: string, certName: string, keyName: string, pair: CertificateAndKey): Promise<void> {
  await fs.writeFile(path.join(dir, keyName), pair.keyPem, { mode: 0o600 });
  await fs.writeFile(path.join(dir, certName), pair.certPem);
}

/**
 * Server certificate for the TLS listener: the given cert/key, or a throw-away CA and a server certificate
 * for localhost / 127.0.0.1 kept in the data folder (reused when already there) or in a temp folder.
 */
export async function prepareServerTls(options: { cert?: string; key?: string; dataDir?: string; host: string }): Promise<ServerTlsMaterial> {
  if (options.cert || options.key) {
    if (!options.cert || !options.key) throw new Error('give both a server certificate and its key');
    return { certPem: options.cert, keyPem: options.key, caPem: null, caFile: null, tempDir: null };
  }
  const tempDir = options.dataDir ? null : await makeTempFolder();
  const dir = options.dataDir ?? (tempDir as string);
  await fs.mkdir(dir, { recursive: true });
  let ca = await readPair(dir, CA_CERT, CA_KEY);
  let server = ca ? await readPair(dir, SERVER_CERT, SERVER_KEY) : null;
  if (!ca) {
    ca = await createCertificate({ commonName: 'GridLinks simulator throw-away CA', isCA: true });
    await writePair(dir, CA_CERT, CA_KEY, ca);
  }
  if (!server) {
    const ipAddresses = ['127.0.0.1', '::1'];
    const dnsNames = ['localhost'];
    if (/^[\d.]+$/.test(options.host) && !ipAddresses.includes(options.host)) ipAddresses.push(options.host);
    else if (!/^[\d.:]+$/.test(options.host) && !dnsNames.includes(options.host)) dnsNames.push(options.host);
    server = await createCertificate({ commonName: 'localhost', issuer: ca, dnsNames, ipAddresses });
    await writePair(dir, SERVER_CERT, SERVER_KEY, server);
  }
  return { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem, caFile: path.join(dir, CA_CERT), tempDir };
}
