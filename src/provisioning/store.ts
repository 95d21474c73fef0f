import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from './errors';
import { sha3Hex } from './credential-hash';

/**
 * Credential store layout (one folder, created 0700 if missing):
 *
 *   <storeDir>/<entry>/credentials.json   0600  what the server returned + where it came from
 *   <storeDir>/<entry>/certificate.pem    0600  X.509 only
 *   <storeDir>/<entry>/private-key.pem    0600  X.509 only, when the key is known
 *   <storeDir>/.pending/<entry>.key.pem   0600  X.509 key, written BEFORE the request is sent
 *
 * <entry> is the device name made filesystem-safe (percent-encoding of everything outside
 * [A-Za-z0-9._-], a leading dot encoded too), or `@x509-<id>` / `@token-<id>` / `@basic-<id>` for a
 * device whose name the server generated. A device folder appears in one atomic rename of a fully
 * written and fsynced temporary folder, and is never replaced: an existing folder is refused before
 * anything is sent. The pending key is removed once committed or once the server said no; it is kept
 * when the outcome is unknown.
 */

export const PENDING_DIR = '.pending';
export const CREDENTIALS_FILE = 'credentials.json';
export const CERTIFICATE_FILE = 'certificate.pem';
export const PRIVATE_KEY_FILE = 'private-key.pem';
const MAX_ENTRY_BYTES = 180;

export interface StoreEntry {
  storeDir: string;
  name: string;
  deviceDir: string;
  pendingKeyPath?: string;
}

export function entryNameForDevice(deviceName: string): string {
  let safe = Array.from(deviceName, (character) =>
    /[A-Za-z0-9._-]/.test(character)
      ? character
      : Array.from(Buffer.from(character, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  ).join('');
  if (safe.startsWith('.')) safe = `%2E${safe.slice(1)}`;
  if (safe.length > MAX_ENTRY_BYTES) safe = `${safe.slice(0, MAX_ENTRY_BYTES - 17)}~${sha3Hex(deviceName).slice(0, 16)}`;
  return safe;
}

/** Entry for a device whose name the server generated: from a non-secret digest of its credentials id. */
export function entryNameForUnnamed(kind: 'x509' | 'token' | 'basic', credentialsId: string): string {
  return `@${kind}-${(kind === 'x509' ? credentialsId : sha3Hex(credentialsId)).slice(0, 16)}`;
}

function storeError(message: string, cause: unknown, details: { pendingKeyPath?: string; requestSent?: boolean } = {}): ProvisionError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new ProvisionError('STORE', `${message}${code ? ` (${code})` : ''}`, { requestSent: false, ...details, ...(code ? { reason: code } : {}) }, { cause });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a new 0600 file and fsyncs it; fails if the file exists. */
async function writeNewFile(file: string, content: string): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function temporaryName(dir: string, name: string): string {
  return path.join(dir, `.tmp-${name}-${randomBytes(6).toString('hex')}`);
}

/** Before sending: refuses an entry that exists (or has a pending key from an earlier attempt), then saves the key as pending. */
export async function prepareEntry(storeDir: string, name: string, privateKey?: string): Promise<StoreEntry> {
  const entry: StoreEntry = { storeDir: path.resolve(storeDir), name, deviceDir: path.resolve(storeDir, name) };
  const pendingDir = path.join(entry.storeDir, PENDING_DIR);
  const pendingKeyPath = path.join(pendingDir, `${name}.key.pem`);
  try {
    await fs.mkdir(pendingDir, { recursive: true, mode: 0o700 });
    await fs.access(entry.storeDir, constants.W_OK);
  } catch (error) {
    throw storeError(`Cannot write to the credential store ${entry.storeDir}: check that it is a folder this user can write. Nothing was sent`, error);
  }
  if (await exists(entry.deviceDir)) {
    throw new ProvisionError(
      'STORE',
      `The credential store already holds credentials at ${entry.deviceDir}: they are never overwritten. Use another device name or store folder, or move that folder away. Nothing was sent.`,
      { requestSent: false },
    );
  }
  if (await exists(pendingKeyPath)) {
    throw new ProvisionError(
      'STORE',
      `A key from an earlier attempt whose outcome is unknown is waiting at ${pendingKeyPath}: check in GridLinks whether that device exists, then move the file away. Nothing was sent.`,
      { requestSent: false, pendingKeyPath },
    );
  }
  if (privateKey === undefined) return entry;
  const temporary = temporaryName(pendingDir, name);
  try {
    await writeNewFile(temporary, privateKey);
    await fs.link(temporary, pendingKeyPath); // never replaces an existing file
    await fs.unlink(temporary);
    await fsyncDirectory(pendingDir);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw storeError(`Cannot save the private key in the credential store ${entry.storeDir}. Nothing was sent`, error);
  }
  return { ...entry, pendingKeyPath };
}

/** After SUCCESS: writes the files into a temporary folder, then renames it into place in one step. */
export async function commitEntry(entry: StoreEntry, files: Record<string, string>): Promise<string[]> {
  const temporary = temporaryName(entry.storeDir, entry.name);
  try {
    if (await exists(entry.deviceDir)) throw Object.assign(new Error('entry exists'), { code: 'EEXIST' });
    await fs.mkdir(temporary, { mode: 0o700 });
    for (const [name, content] of Object.entries(files)) await writeNewFile(path.join(temporary, name), content);
    await fsyncDirectory(temporary);
    await fs.rename(temporary, entry.deviceDir);
    await fsyncDirectory(entry.storeDir);
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    const keyNote = entry.pendingKeyPath ? ` The private key is kept at ${entry.pendingKeyPath}.` : '';
    throw storeError(
      `The device was provisioned, but its credentials could not be saved in ${entry.deviceDir}.${keyNote} Save them by hand from this result`,
      error,
      { requestSent: true, ...(entry.pendingKeyPath ? { pendingKeyPath: entry.pendingKeyPath } : {}) },
    );
  }
  await discardPending(entry);
  return Object.keys(files).map((name) => path.join(entry.deviceDir, name));
}

/** Removes the pending key (the server said no, or nothing was sent, or it is committed). */
export async function discardPending(entry: StoreEntry): Promise<void> {
  if (entry.pendingKeyPath === undefined) return;
  await fs.rm(entry.pendingKeyPath, { force: true });
}
