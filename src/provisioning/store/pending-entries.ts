import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePendingRecord, type PendingRecord } from './pending-record';
import { PENDING_DIR, PENDING_KEY_SUFFIX, PENDING_RECORD_SUFFIX, exists, fsyncDirectory, pendingPaths, type StoreEntry } from './store';

/** Entries a resume found the server never created: moved here, never deleted. */
export const NOT_CREATED_DIR = '.not-created';

export interface PendingEntry {
  entry: StoreEntry;
  /** undefined when there is no record file, or it is not a complete record. */
  record?: PendingRecord;
  privateKey?: string;
}

/** Names of the entries waiting in `.pending/` (a record, a key, or both), sorted. */
export async function listPendingNames(storeDir: string): Promise<string[]> {
  const pendingDir = path.join(path.resolve(storeDir), PENDING_DIR);
  const files = await fs.readdir(pendingDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const names = new Set<string>();
  for (const file of files) {
    if (file.startsWith('.')) continue;
    if (file.endsWith(PENDING_KEY_SUFFIX)) names.add(file.slice(0, -PENDING_KEY_SUFFIX.length));
    else if (file.endsWith(PENDING_RECORD_SUFFIX)) names.add(file.slice(0, -PENDING_RECORD_SUFFIX.length));
  }
  return [...names].sort();
}

export async function readPendingEntry(storeDir: string, name: string): Promise<PendingEntry> {
  const root = path.resolve(storeDir);
  const { keyPath, recordPath } = pendingPaths(root, name);
  const entry: StoreEntry = { storeDir: root, name, deviceDir: path.join(root, name) };
  const recordText = await readIfExists(recordPath);
  const privateKey = await readIfExists(keyPath);
  if (recordText !== undefined) entry.pendingPath = recordPath;
  if (privateKey !== undefined) entry.pendingKeyPath = keyPath;
  const record = recordText === undefined ? undefined : parsePendingRecord(recordText);
  return { entry, record, ...(privateKey !== undefined ? { privateKey } : {}) };
}

/** Moves an entry's pending files into `.pending/.not-created/` (a name already there gets a suffix). */
export async function moveAside(entry: StoreEntry): Promise<string[]> {
  const asideDir = path.join(entry.storeDir, PENDING_DIR, NOT_CREATED_DIR);
  await fs.mkdir(asideDir, { recursive: true, mode: 0o700 });
  const suffix =
    (await exists(path.join(asideDir, `${entry.name}${PENDING_RECORD_SUFFIX}`))) || (await exists(path.join(asideDir, `${entry.name}${PENDING_KEY_SUFFIX}`)))
      ? `~${randomBytes(4).toString('hex')}`
      : '';
  const moved: string[] = [];
  for (const [from, ending] of [
    [entry.pendingPath, PENDING_RECORD_SUFFIX],
    [entry.pendingKeyPath, PENDING_KEY_SUFFIX],
  ] as const) {
    if (from === undefined) continue;
    const to = path.join(asideDir, `${entry.name}${suffix}${ending}`);
    await fs.rename(from, to);
    moved.push(to);
  }
  await fsyncDirectory(asideDir);
  await fsyncDirectory(path.join(entry.storeDir, PENDING_DIR));
  return moved;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
