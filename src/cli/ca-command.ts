import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ProvisionError } from '../provisioning/errors';
import { KEY_ALGORITHMS } from '../provisioning/keys';
import type { KeyAlgorithm } from '../provisioning/types';
import { EXIT } from './exit-codes';
import { writeStdout } from './stdout';

const DEFAULT_NAME = 'GridLinks fleet CA';
const DEFAULT_DAYS = 3650;

function usage(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', `${message} (see --help)`, { field });
}

/** `gridlinks-provision ca create ...`: a self-signed fleet CA (CA:TRUE, pathlen 0, keyCertSign/cRLSign). */
export async function runCaCommand(argv: string[], signal?: AbortSignal): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'create') throw usage('ca', `ca: the only action is "create" (gridlinks-provision ca create --out DIR)`);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: { out: { type: 'string' }, name: { type: 'string' }, days: { type: 'string' }, 'key-type': { type: 'string' }, json: { type: 'boolean' } },
    }));
  } catch (error) {
    throw usage('arguments', (error as Error).message);
  }
  const out = values.out as string | undefined;
  if (!out || !out.trim()) throw usage('out', 'ca create needs --out DIR, the folder for ca.pem and ca.key');
  const commonName = ((values.name as string | undefined) ?? DEFAULT_NAME).trim();
  if (!commonName || commonName.length > 64) throw usage('name', '--name must be 1 to 64 characters');
  const daysText = (values.days as string | undefined) ?? String(DEFAULT_DAYS);
  const validityDays = Number(daysText);
  if (!/^\d+$/.test(daysText) || validityDays < 1 || validityDays > 36_500) throw usage('days', '--days must be a whole number from 1 to 36500');
  const keyAlgorithm = ((values['key-type'] as string | undefined) ?? 'p256') as KeyAlgorithm;
  if (!KEY_ALGORITHMS.includes(keyAlgorithm)) throw usage('key-type', `--key-type must be one of ${KEY_ALGORITHMS.join(', ')}`);

  const { createFleetCa } = require('../provisioning/x509') as typeof import('../provisioning/x509');
  const ca = await createFleetCa({ commonName, validityDays, keyAlgorithm });
  // Interrupted while the key was made: nothing is written.
  if (signal?.aborted) throw new ProvisionError('ABORTED', 'Interrupted; no CA was written.', { requestSent: false });
  const files = await writeCaFiles(path.resolve(out), ca.certificate, ca.privateKey);
  const printed = await writeStdout(
    values.json === true
      ? `${JSON.stringify({ certificate: ca.certificate, provisionDeviceKey: ca.provisionDeviceKey, files })}\n`
      : `${ca.certificate}\nSHA3-256 (the device profile's provision key): ${ca.provisionDeviceKey}\n` +
          `Certificate ${files.certificate}, private key ${files.privateKey} (0600: the signer key of chain provisioning, keep it secret).\n` +
          `Paste the certificate above into the device profile (Device provisioning: "X.509 certificates chain").\n`,
  );
  return printed === undefined ? EXIT.OK : EXIT.STORE;
}

/** The key first, created exclusively (an existing CA key is never overwritten), then the certificate. */
async function writeCaFiles(dir: string, certificate: string, privateKey: string): Promise<{ certificate: string; privateKey: string }> {
  const files = { certificate: path.join(dir, 'ca.pem'), privateKey: path.join(dir, 'ca.key') };
  try {
    await fs.mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await fs.writeFile(files.privateKey, privateKey, { mode: 0o600, flag: 'wx' });
    await fs.writeFile(files.certificate, certificate, { mode: 0o644, flag: 'wx' }).catch(async (error: unknown) => {
      await fs.unlink(files.privateKey); // the key of a CA whose certificate could not be written is of no use
      throw error;
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'EEXIST' ? `${dir} already holds a ca.key or ca.pem, which is never overwritten: choose another --out` : `cannot write to ${dir} (${code})`;
    throw new ProvisionError('STORE', `ca create: ${why}.`, { reason: code });
  }
  return files;
}
