import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processIsAlive } from '../provisioning/store';

/**
 * The simulator keeps a throw-away CA (with its private key) in a temp folder and removes it on stop.
 * A simulator killed outright cannot, so each folder is named after the process that made it
 * (gridlinks-sim-<pid>-XXXXXX) and the next simulator to start removes those whose process is gone.
 */
const PREFIX = 'gridlinks-sim-';
const OWNED_FOLDER = /^gridlinks-sim-(\d+)-[A-Za-z0-9]{6}$/;

/** Removes the temp folders of simulators whose process has ended (only this user's); returns their paths. */
export async function removeAbandonedTempFolders(tempRoot = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await fs.readdir(tempRoot).catch(() => [] as string[])) {
    const match = OWNED_FOLDER.exec(entry);
    if (!match || processIsAlive(Number(match[1]))) continue;
    const folder = path.join(tempRoot, entry);
    const stats = await fs.lstat(folder).catch(() => null);
    if (!stats?.isDirectory() || (process.getuid && stats.uid !== process.getuid())) continue;
    await fs.rm(folder, { recursive: true, force: true }).catch(() => undefined);
    removed.push(folder);
  }
  return removed;
}

/** A new temp folder for this process's simulator, after removing those left by killed ones. */
export async function makeTempFolder(): Promise<string> {
  await removeAbandonedTempFolders();
  return fs.mkdtemp(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
}
