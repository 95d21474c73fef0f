import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { processIsAlive } from './process-alive';
import { RENEWAL_RECORD_FILE } from './renewal-files';
import { CREDENTIALS_FILE } from './store';
import { NEXT_CERTIFICATE_FILE, NEXT_PRIVATE_KEY_FILE, PREVIOUS_CERTIFICATE_FILE, PREVIOUS_PRIVATE_KEY_FILE } from './stored-files';

/** A temporary without a pid in its name (older versions) is a leftover once this old. */
const UNNAMED_WRITER_AGE_MS = 60_000;
/** Past this age a temporary is a leftover even if a process with its pid runs (pids get reused). */
const ANY_WRITER_AGE_MS = 3_600_000;
/** `.tmp-<pid>-<target>-<12 hex>` (store.ts temporaryName); older versions wrote no pid. */
const TEMPORARY = /^\.tmp-(?:(\d+)-)?(.+)-[0-9a-f]{12}$/;
/** The files a renewal writes in a committed device folder through a temporary (renewal-files.ts). */
const RENEWAL_TARGETS = new Set([
  RENEWAL_RECORD_FILE,
  NEXT_CERTIFICATE_FILE,
  NEXT_PRIVATE_KEY_FILE,
  PREVIOUS_CERTIFICATE_FILE,
  PREVIOUS_PRIVATE_KEY_FILE,
  CREDENTIALS_FILE,
]);

/** A temporary whose writer is gone (another pid no longer running, or too old to be anyone's): the file it was for. */
export async function staleTemporary(dir: string, name: string): Promise<{ target: string } | undefined> {
  const match = TEMPORARY.exec(name);
  if (!match) return undefined;
  let stats: Stats;
  try {
    stats = await fs.lstat(path.join(dir, name));
  } catch {
    return undefined;
  }
  const age = Date.now() - stats.mtimeMs;
  const pid = match[1] === undefined ? undefined : Number(match[1]);
  const stale = pid === undefined ? age > UNNAMED_WRITER_AGE_MS : pid !== process.pid && (!processIsAlive(pid) || age > ANY_WRITER_AGE_MS);
  return stale ? { target: match[2] } : undefined;
}

/**
 * Temporaries a killed renewal left in a device folder: removed when their name says a renewal of this
 * package wrote them (a pid, one of its files) and their writer is gone. None holds anything the folder
 * needs: the file it was for is linked or renamed into place only once complete, and the renewal is
 * settled from the files in place. Run when a store is opened and when a renewal begins (a renewal
 * killed in another process after this one opened the store).
 */
export async function removeRenewalTemporaries(deviceDir: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const item of await fs.readdir(deviceDir, { withFileTypes: true }).catch(() => [])) {
    const match = TEMPORARY.exec(item.name);
    if (!item.isFile() || match?.[1] === undefined || !RENEWAL_TARGETS.has(match[2])) continue;
    if (!(await staleTemporary(deviceDir, item.name))) continue;
    await fs.rm(path.join(deviceDir, item.name), { force: true });
    warnings.push(`A renewal stopped while writing ${match[2]} in ${deviceDir}: removed its temporary file ${item.name} (the files in place are unchanged).`);
  }
  return warnings;
}
