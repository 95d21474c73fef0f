import * as path from 'node:path';
import type { RootDatabase } from 'lmdb';
import { makeFolders } from '../provisioning/folders';
import { storeFailed } from './outbox-errors';

export type OutboxDatabase = RootDatabase<unknown, (string | number)[]>;

interface Shared {
  database: Promise<OutboxDatabase>;
  users: number;
}

/**
 * One lmdb environment per folder in a process: LMDB must not be opened twice by one process (its
 * POSIX locks belong to the process), so outboxes on the same folder share it. Other processes open
 * their own; LMDB's lock file serialises their writers.
 */
const openDatabases = new Map<string, Shared>();

async function openDatabase(dir: string): Promise<OutboxDatabase> {
  try {
    // Bounded: Node's recursive mkdir spins forever where a parent refuses children (under /proc).
    await makeFolders(dir, 0o700);
    const { open } = await import('lmdb');
    return open<unknown, (string | number)[]>({
      path: dir,
      // A commit resolves once it is on disk (data, then meta page, each fsynced): append() means durable.
      overlappingSync: false,
      encoding: 'msgpack',
      // Records are read once and deleted: nothing to gain from keeping them in a cache.
      cache: false,
    });
  } catch (error) {
    throw storeFailed(dir, 'open', error);
  }
}

export async function useDatabase(dir: string): Promise<OutboxDatabase> {
  const key = path.resolve(dir);
  let shared = openDatabases.get(key);
  if (!shared) {
    shared = { database: openDatabase(key), users: 0 };
    openDatabases.set(key, shared);
    shared.database.catch(() => openDatabases.delete(key));
  }
  shared.users++;
  return shared.database;
}

/** Closes the folder's environment when its last user in this process lets go. */
export async function releaseDatabase(dir: string): Promise<void> {
  const key = path.resolve(dir);
  const shared = openDatabases.get(key);
  if (!shared || --shared.users > 0) return;
  openDatabases.delete(key);
  const database = await shared.database;
  await database.close();
}
