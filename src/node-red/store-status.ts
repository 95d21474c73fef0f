import { inspectStore } from '../provisioning/store';
import { isProvisionError } from '../provisioning/errors';

export interface StoreStatusHooks {
  warn(text: string): void;
  /** Called with the number of entries waiting in `.pending/` when there are any. */
  pending(count: number, storeDir: string): void;
  /** The store folder is refused (unsafe, not writable): its STORE error message. */
  refused(message: string): void;
}

/**
 * At deploy: checks the node's store folder, recovers a killed run's leftovers (each reported as a
 * warning), and reports how many requests wait in `.pending/` for a resume.
 */
export async function reportStoreAtDeploy(storeDir: string, hooks: StoreStatusHooks): Promise<void> {
  try {
    const inspection = await inspectStore(storeDir);
    for (const warning of inspection.warnings) hooks.warn(warning);
    if (inspection.pending.length > 0) hooks.pending(inspection.pending.length, inspection.storeDir);
  } catch (error) {
    hooks.refused(isProvisionError(error) ? error.message : String(error));
  }
}
