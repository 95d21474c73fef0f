import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { listPendingNames, readPendingEntry } from './pending-entries';
import { readStoredEntry } from './stored-entry';
import { PENDING_DIR } from './store-safety';
import { certificateNotAfter, NEXT_CERTIFICATE_FILE } from './stored-files';

/** One device of a store as `inspectStore` lists it (no secret: no key, token or password). */
export interface StoredDeviceSummary {
  /** The entry's folder name in the store. */
  entry: string;
  deviceName: string | null;
  credentialsType: string;
  /** committed: a device folder; pending: a request in `.pending/` whose outcome is unknown (resume it). */
  state: 'committed' | 'pending';
  /** X.509: the certificate's end of validity (ISO 8601). */
  notAfter?: string;
  /** Made by chain provisioning (its folder keeps chain.pem): a renewal can replace its certificate. */
  chain?: true;
  /** A renewal was cut before it finished: `certificate.next.pem` waits in the folder. */
  renewing?: true;
  /** Why the entry could not be read, when it could not. */
  problem?: string;
}

/** Every committed device folder and every pending request of the store, sorted by entry name. */
export async function listStoredDevices(storeDir: string): Promise<StoredDeviceSummary[]> {
  const devices: StoredDeviceSummary[] = [];
  const names = (await fs.readdir(storeDir, { withFileTypes: true })).filter((item) => item.isDirectory() && !item.name.startsWith('.'));
  for (const { name } of names) devices.push(await committedSummary(storeDir, name));
  for (const name of await listPendingNames(storeDir)) {
    const { record } = await readPendingEntry(storeDir, name);
    const notAfter = certificateNotAfter(record?.certificate);
    devices.push({
      entry: name,
      deviceName: record?.deviceName ?? null,
      credentialsType: record?.credentialsType ?? 'unknown',
      state: 'pending',
      ...(notAfter !== undefined ? { notAfter } : {}),
      ...(record?.chain !== undefined ? { chain: true as const } : {}),
      ...(record === undefined ? { problem: `no readable record in ${path.join(storeDir, PENDING_DIR)}` } : {}),
    });
  }
  return devices.sort((a, b) => a.entry.localeCompare(b.entry) || a.state.localeCompare(b.state));
}

async function committedSummary(storeDir: string, name: string): Promise<StoredDeviceSummary> {
  const deviceDir = path.join(storeDir, name);
  try {
    const stored = await readStoredEntry(deviceDir, null);
    if (stored === undefined) return { entry: name, deviceName: null, credentialsType: 'unknown', state: 'committed', problem: 'gone' };
    const notAfter = stored.notAfter ?? certificateNotAfter(stored.credentials.certificate as string | undefined);
    const renewing = await fs.lstat(path.join(deviceDir, NEXT_CERTIFICATE_FILE)).then(
      () => true,
      () => false,
    );
    return {
      entry: name,
      deviceName: stored.deviceName,
      credentialsType: stored.credentialsType,
      state: 'committed',
      ...(notAfter !== undefined ? { notAfter } : {}),
      ...(stored.credentials.chain !== undefined ? { chain: true as const } : {}),
      ...(renewing ? { renewing: true as const } : {}),
    };
  } catch (error) {
    return { entry: name, deviceName: null, credentialsType: 'unknown', state: 'committed', problem: (error as Error).message };
  }
}

/** The devices whose certificate ends within `windowMs` from `now` (already expired ones included). */
export function expiringWithin<T extends Pick<StoredDeviceSummary, 'notAfter'>>(devices: T[], windowMs: number, now = Date.now()): T[] {
  return devices.filter((device) => device.notAfter !== undefined && Date.parse(device.notAfter) - now <= windowMs);
}

/**
 * The names of the committed chain devices (the ones a renewal can replace) whose certificate ends within
 * `windowMs`: what `--renew-expiring` and the provision node's automatic renewal renew, in entry order.
 */
export function chainDevicesExpiring(devices: StoredDeviceSummary[], windowMs: number, now = Date.now()): string[] {
  const chainDevices = devices.filter((device) => device.chain === true && device.state === 'committed' && device.deviceName !== null);
  return expiringWithin(chainDevices, windowMs, now).map((device) => device.deviceName!);
}
