import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../errors';
import { sha3Hex } from '../x509';
import { ensureSafeStore, PENDING_DIR } from './store-safety';
import type { PendingRecord } from './pending-record';

/**
 * Credential store layout (one folder, created 0700 if missing; refused if it or `.pending` is a
 * symlink, writable by others, or owned by another user: see store-safety.ts):
 *
 *   <storeDir>/<entry>/credentials.json   0600  what the server returned + where it came from
 *   <storeDir>/<entry>/certificate.pem    0600  X.509 only
 *   <storeDir>/<entry>/private-key.pem    0600  X.509 only, when the key is known
 *   <storeDir>/.pending/<entry>.json      0600  everything sent but the key (certificate, chosen
 *                                               token/basic credentials, server), written BEFORE sending
 *   <storeDir>/.pending/<entry>.key.pem   0600  X.509 key, written BEFORE the request is sent
 *   <storeDir>/.pending/.not-created/     entries a resume found the server never created
 *
 * <entry> is the device name made filesystem-safe (percent-encoding of everything outside
 * [A-Za-z0-9._-], a leading dot encoded too), or `@x509-<id>` / `@token-<id>` / `@basic-<id>` for a
 * device whose name the server generated. A device folder appears in one atomic rename of a fully
 * written and fsynced temporary folder, and is never replaced: an existing folder is refused before
 * anything is sent. The pending files are removed once committed or once the server said no; they are
 * kept when the outcome is unknown. Temporary names carry the writer's pid (`.tmp-<pid>-…`), so a
 * later run can tell a killed run's leftovers (leftovers.ts) from a live run's work.
 */

export { PENDING_DIR };
export const CREDENTIALS_FILE = 'credentials.json';
export const CERTIFICATE_FILE = 'certificate.pem';
export const PRIVATE_KEY_FILE = 'private-key.pem';
export const PENDING_KEY_SUFFIX = '.key.pem';
export const PENDING_RECORD_SUFFIX = '.json';
const MAX_ENTRY_BYTES = 180;

export interface StoreEntry {
  storeDir: string;
  name: string;
  deviceDir: string;
  pendingKeyPath?: string;
  /** The pending record (.json) written before sending, when there is one. */
  pendingPath?: string;
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

export function pendingPaths(storeDir: string, name: string): { keyPath: string; recordPath: string } {
  const pendingDir = path.join(path.resolve(storeDir), PENDING_DIR);
  return { keyPath: path.join(pendingDir, `${name}${PENDING_KEY_SUFFIX}`), recordPath: path.join(pendingDir, `${name}${PENDING_RECORD_SUFFIX}`) };
}

function storeError(message: string, cause: unknown, details: { pendingKeyPath?: string; requestSent?: boolean } = {}): ProvisionError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new ProvisionError('STORE', `${message}${code ? ` (${code})` : ''}`, { requestSent: false, ...details, ...(code ? { reason: code } : {}) }, { cause });
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a new 0600 file and fsyncs it; fails if the file exists. */
export async function writeNewFile(file: string, content: string): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** writeNewFile for several files at once (their fsyncs wait for the disk together); settles only when every write has. */
async function writeNewFiles(files: ReadonlyArray<readonly [file: string, content: string]>): Promise<void> {
  const writes = await Promise.allSettled(files.map(([file, content]) => writeNewFile(file, content)));
  const failed = writes.find((write) => write.status === 'rejected');
  if (failed) throw failed.reason;
}

/** `.tmp-<pid>-<target>-<12 hex>`: the pid tells a killed writer's leftovers from a live one's. */
export function temporaryName(dir: string, target: string): string {
  return path.join(dir, `.tmp-${process.pid}-${target}-${randomBytes(6).toString('hex')}`);
}

/** Writes `file` complete or not at all (temp + fsync + link, which never replaces an existing file). */
export async function writeFileOnce(file: string, content: string): Promise<void> {
  await writeFilesOnce(path.dirname(file), [[file, content]]);
}

/**
 * writeFileOnce for several files of one folder: their temporaries are written and fsynced at once
 * (one wait for the disk instead of one per file), then linked in the given order, `linked` told of
 * each, then one fsync of the folder.
 */
async function writeFilesOnce(dir: string, files: ReadonlyArray<readonly [file: string, content: string]>, linked?: (file: string) => void): Promise<void> {
  const temporaries = files.map(([file]) => temporaryName(dir, path.basename(file)));
  try {
    await writeNewFiles(files.map(([, content], index) => [temporaries[index], content]));
    for (const [index, [file]] of files.entries()) {
      await fs.link(temporaries[index], file);
      linked?.(file);
    }
  } finally {
    await Promise.all(temporaries.map((temporary) => fs.rm(temporary, { force: true })));
  }
  await fsyncDirectory(dir);
}

/**
 * Before sending: refuses an entry that exists (or has pending files from an earlier attempt), then
 * saves what is needed to finish the job later: the pending record, then the private key (written
 * and fsynced together, linked in that order).
 */
export async function prepareEntry(storeDir: string, name: string, privateKey?: string, record?: PendingRecord): Promise<StoreEntry> {
  const safe = await ensureSafeStore(storeDir);
  const entry: StoreEntry = { storeDir: safe.storeDir, name, deviceDir: path.join(safe.storeDir, name) };
  const { keyPath, recordPath } = pendingPaths(safe.storeDir, name);
  await refuseIfTaken(safe.storeDir, name);
  const written: StoreEntry = { ...entry };
  const files: Array<[string, string]> = [];
  if (record !== undefined) files.push([recordPath, `${JSON.stringify(record, null, 2)}\n`]);
  if (privateKey !== undefined) files.push([keyPath, privateKey]);
  try {
    await writeFilesOnce(path.dirname(recordPath), files, (file) => {
      if (file === recordPath) written.pendingPath = recordPath;
      else written.pendingKeyPath = keyPath;
    });
  } catch (error) {
    await discardPending(written);
    throw storeError(`Cannot save the pending credentials in the credential store ${entry.storeDir}. Nothing was sent`, error);
  }
  return written;
}

/** STORE (nothing sent) when the entry is committed already, or an earlier attempt for it waits in `.pending/`. */
export async function refuseIfTaken(storeDir: string, name: string): Promise<void> {
  const deviceDir = path.join(storeDir, name);
  const { keyPath, recordPath } = pendingPaths(storeDir, name);
  if (await exists(deviceDir)) {
    throw new ProvisionError(
      'STORE',
      `The credential store already holds credentials at ${deviceDir}: they are never overwritten. Use another device name or store folder, or move that folder away. Nothing was sent.`,
      { requestSent: false },
    );
  }
  for (const waiting of [keyPath, recordPath]) {
    if (await exists(waiting)) {
      throw new ProvisionError(
        'STORE',
        `An earlier attempt for this device, whose outcome is unknown, is waiting at ${waiting}: resume it (msg.action = "resume", or gridlinks-provision --resume --out ${storeDir}), which commits it if GridLinks created the device. Nothing was sent.`,
        { requestSent: false, ...(waiting === keyPath ? { pendingKeyPath: keyPath } : {}) },
      );
    }
  }
}

/** After SUCCESS: writes the files into a temporary folder, then renames it into place in one step. */
export async function commitEntry(entry: StoreEntry, files: Record<string, string>): Promise<string[]> {
  const temporary = temporaryName(entry.storeDir, entry.name);
  try {
    if (await exists(entry.deviceDir)) throw Object.assign(new Error('entry exists'), { code: 'EEXIST' });
    await fs.mkdir(temporary, { mode: 0o700 });
    await writeNewFiles(Object.entries(files).map(([name, content]) => [path.join(temporary, name), content]));
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

/** Removes the pending files (the server said no, or nothing was sent, or it is committed). */
export async function discardPending(entry: StoreEntry): Promise<void> {
  if (entry.pendingKeyPath !== undefined) await fs.rm(entry.pendingKeyPath, { force: true });
  if (entry.pendingPath !== undefined) await fs.rm(entry.pendingPath, { force: true });
}
