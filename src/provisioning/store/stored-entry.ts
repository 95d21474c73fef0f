import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../errors';
import type { CredentialsType, ProvisionedServer } from '../types';
import { CREDENTIALS_FILE } from './store';

/** Largest file of a stored entry that is read (credentials.json, certificate, key, chain). */
export const MAX_STORED_FILE_BYTES = 1024 * 1024;

/** The files credentials.json may name, and the credential each one holds. */
const NAMED_FILES = [
  ['certificateFile', 'certificate'],
  ['privateKeyFile', 'privateKey'],
  ['chainFile', 'chain'],
] as const;

/** A committed device as its folder holds it: credentials.json, with the PEM files it names read in. */
export interface StoredEntry {
  deviceDir: string;
  deviceName: string | null;
  credentialsType: CredentialsType;
  /** As stored; for X.509 the certificate, private key (when kept) and chain in place of their file names. */
  credentials: Record<string, unknown>;
  server?: ProvisionedServer;
  /** The files read, certificate and key first. */
  files: string[];
  /** The record says the device was created as a gateway. */
  gateway?: true;
  /** X.509: the certificate's end of validity (ISO 8601), as credentials.json records it (entries written before 0.3 have none). */
  notAfter?: string;
}

/**
 * The one reader of a committed store entry, for every user (reuse, resume, the device and gateway
 * nodes). Undefined when the folder does not exist; STORE naming the device when it exists but cannot
 * be read: a file over MAX_STORED_FILE_BYTES or not a regular file, JSON that is not a record, or a
 * file name that leaves the device's folder.
 */
export async function readStoredEntry(deviceDir: string, deviceName: string | null): Promise<StoredEntry | undefined> {
  const device = deviceName === null ? 'the unnamed device' : `device "${deviceName}"`;
  const credentialsFile = path.join(deviceDir, CREDENTIALS_FILE);
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(await readBoundedFile(credentialsFile)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(await folderExists(deviceDir))) return undefined;
    throw unreadable(device, deviceName, deviceDir, code ?? 'not JSON');
  }
  const stored = record?.credentials;
  if (typeof stored !== 'object' || stored === null || typeof record.credentialsType !== 'string') {
    throw unreadable(device, deviceName, deviceDir, 'not a complete credentials.json');
  }
  const credentials: Record<string, unknown> = { ...stored };
  const named: Partial<Record<'certificate' | 'privateKey' | 'chain', string>> = {};
  for (const [field, credential] of NAMED_FILES) {
    const name = credentials[field];
    if (name === undefined) continue;
    if (typeof name !== 'string' || name === '' || path.basename(name) !== name) {
      throw new ProvisionError(
        'STORE',
        `The stored credentials of ${device} in ${deviceDir} are incomplete: ${field} ${JSON.stringify(name)} is not a file in that folder.`,
        { ...(deviceName !== null ? { deviceName } : {}), reason: 'EPATH' },
      );
    }
    named[credential] = name;
    delete credentials[field];
  }
  const files = [named.certificate, named.privateKey].filter((name) => name !== undefined).map((name) => path.join(deviceDir, name));
  files.push(credentialsFile);
  if (named.chain !== undefined) files.push(path.join(deviceDir, named.chain));
  try {
    for (const [credential, name] of Object.entries(named)) credentials[credential] = await readBoundedFile(path.join(deviceDir, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ProvisionError('STORE', `The certificate or key files of ${device} in ${deviceDir} cannot be read (${code}).`, {
      ...(deviceName !== null ? { deviceName } : {}),
      reason: code,
    });
  }
  return {
    deviceDir,
    deviceName: typeof record.deviceName === 'string' ? record.deviceName : null,
    credentialsType: record.credentialsType as CredentialsType,
    credentials,
    ...(typeof record.server === 'object' && record.server !== null ? { server: record.server as ProvisionedServer } : {}),
    files,
    ...(record.gateway === true ? { gateway: true as const } : {}),
    ...(typeof record.notAfter === 'string' ? { notAfter: record.notAfter } : {}),
  };
}

async function readBoundedFile(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    if (stat.size > MAX_STORED_FILE_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

async function folderExists(dir: string): Promise<boolean> {
  return fs.lstat(dir).then(
    () => true,
    () => false,
  );
}

function unreadable(device: string, deviceName: string | null, deviceDir: string, reason: string): ProvisionError {
  return new ProvisionError(
    'STORE',
    `The credential store holds a folder for ${device} at ${deviceDir}, but its credentials cannot be read (${reason}): repair or move that folder away.`,
    { ...(deviceName !== null ? { deviceName } : {}), reason },
  );
}
