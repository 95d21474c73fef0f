import { constants, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../errors';
import { makeFolders } from '../folders';

export const PENDING_DIR = '.pending';

/**
 * The store holds private keys: it is used only when this user made it and only this user can change
 * it. A store folder or `.pending` that is a symlink, writable by group/others, or owned by another
 * user is refused with STORE before anything is sent (the folder could be swapped or read by someone
 * else). Missing folders are created 0700.
 */
export async function ensureSafeStore(storeDir: string): Promise<{ storeDir: string; pendingDir: string }> {
  const root = path.resolve(storeDir);
  const pendingDir = path.join(root, PENDING_DIR);
  try {
    await makeFolders(root);
    await checkFolder(root, 'The credential store folder', root);
    await fs.mkdir(pendingDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await checkFolder(pendingDir, 'The pending folder', root);
    await fs.access(root, constants.W_OK);
  } catch (error) {
    if (error instanceof ProvisionError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProvisionError(
      'STORE',
      `Cannot write to the credential store ${root}: check that it is a folder this user can write. Nothing was sent${code ? ` (${code})` : ''}.`,
      { requestSent: false, ...(code ? { reason: code } : {}) },
      { cause: error },
    );
  }
  return { storeDir: root, pendingDir };
}

async function checkFolder(folder: string, what: string, root: string): Promise<void> {
  const stats = await fs.lstat(folder);
  const refuse = (problem: string, fix: string, reason: string) =>
    new ProvisionError('STORE', `${what} ${folder} ${problem}: ${fix} Nothing was sent.`, { requestSent: false, reason });
  if (stats.isSymbolicLink()) {
    throw refuse(
      'is a symbolic link, which the store does not follow',
      `give the real folder's path instead of the link (or replace the link by a folder).`,
      'SYMLINK',
    );
  }
  if (!stats.isDirectory()) throw refuse('is not a folder', 'give a folder (it is created if missing).', 'ENOTDIR');
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw refuse(`is owned by user id ${stats.uid}, not by this user (${uid})`, `use a folder of this user, or \`chown -R ${uid} ${root}\`.`, 'OWNER');
  }
  if (writableByOthers(stats)) {
    throw refuse(`can be changed by other users (mode ${(stats.mode & 0o777).toString(8)})`, `run \`chmod 700 ${folder}\`.`, 'MODE');
  }
}

function writableByOthers(stats: Stats): boolean {
  return (stats.mode & 0o022) !== 0;
}
