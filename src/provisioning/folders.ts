import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * mkdir -p, one level at a time from the nearest folder that exists, missing levels made with `mode`:
 * Node's own recursive mkdir never returns where a parent exists but refuses children (it retries
 * ENOENT forever under /proc, at 100% CPU). Rejects with the first level's error (ENOENT, EACCES, ...).
 * A ground file (imports no room): the credential store and the outbox both make their folders with it.
 */
export async function makeFolders(folder: string, mode = 0o700): Promise<void> {
  const missing: string[] = [];
  for (let current = path.resolve(folder); ; current = path.dirname(current)) {
    const exists = await fs.lstat(current).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    if (exists || path.dirname(current) === current) break;
    missing.unshift(current);
  }
  for (const level of missing) {
    await fs.mkdir(level, { mode }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
