import { expiringWithin, inspectStore, type StoredDeviceSummary } from '../provisioning/store';
import { isProvisionError } from '../provisioning/errors';

export interface StoreStatusHooks {
  warn(text: string): void;
  /** Called with the number of entries waiting in `.pending/` when there are any. */
  pending(count: number, storeDir: string): void;
  /** The devices whose certificate ends inside the warning window, when there are any. */
  expiring?(devices: StoredDeviceSummary[]): void;
  /** The store folder is refused (unsafe, not writable): its STORE error message. */
  refused(message: string): void;
}

/**
 * At deploy: checks the node's store folder, recovers a killed run's leftovers (each reported as a
 * warning), reports how many requests wait in `.pending/` for a resume and which committed
 * certificates end within `windowMs`.
 */
export async function reportStoreAtDeploy(storeDir: string, hooks: StoreStatusHooks, windowMs = 0): Promise<void> {
  try {
    const inspection = await inspectStore(storeDir);
    for (const warning of inspection.warnings) hooks.warn(warning);
    if (inspection.pending.length > 0) hooks.pending(inspection.pending.length, inspection.storeDir);
    const expiring = expiringWithin(
      inspection.devices.filter((device) => device.state === 'committed'),
      windowMs,
    );
    if (expiring.length > 0) hooks.expiring?.(expiring);
  } catch (error) {
    hooks.refused(isProvisionError(error) ? error.message : String(error));
  }
}
