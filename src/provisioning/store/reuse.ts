import * as path from 'node:path';
import { openStore } from './leftovers';
import { entryNameForDevice, refuseIfTaken } from './store';
import { readStoredResult } from './stored-result';
import { deviceEndpoint } from '../net';
import type { ProvisionResult, ResolvedOptions } from '../types';

/**
 * With a store: checks the folder is safe, recovers a killed run's leftovers (once per process), and
 * with ifStored 'reuse' answers a device already committed there from the store, before anything is
 * sent; an entry it cannot reuse (ifStored 'fail', or an earlier attempt waiting in `.pending/`) is
 * refused with STORE before any connection. Without a device name there is nothing to look up.
 */
export async function openStoreFor(resolved: ResolvedOptions): Promise<{ fromStore?: ProvisionResult; warnings: string[] }> {
  if (resolved.storeDir === undefined) return { warnings: [] };
  const opened = await openStore(resolved.storeDir);
  if (resolved.deviceName === undefined) return { warnings: opened.warnings };
  const name = entryNameForDevice(resolved.deviceName);
  const fromStore =
    resolved.ifStored === 'reuse' ? await readStoredResult(path.join(opened.storeDir, name), deviceEndpoint(resolved.server), resolved.deviceName) : undefined;
  // Refused here, before the connection is opened, rather than once the request is ready.
  if (fromStore === undefined) await refuseIfTaken(opened.storeDir, name);
  return { fromStore, warnings: opened.warnings };
}
