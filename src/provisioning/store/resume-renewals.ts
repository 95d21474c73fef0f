import * as path from 'node:path';
import { ProvisionError } from '../errors';
import type { ResolvedServer } from '../types';
import { settleRenewal, type RenewalSettlement } from './renewal-settle';
import { listStoredDevices } from './stored-devices';

/** What a resume reports for a renewal a killed run left (the same shape as a pending entry's report). */
export interface RenewalReport {
  entry: string;
  deviceName: string | null;
  credentialsType: string;
  outcome: 'renewal-finished' | 'renewal-abandoned' | 'in-progress' | 'unknown' | 'settled-elsewhere';
  message: string;
}

const OUTCOMES: Record<RenewalSettlement, RenewalReport['outcome']> = {
  finished: 'renewal-finished',
  abandoned: 'renewal-abandoned',
  'in-progress': 'in-progress',
  unknown: 'unknown',
  none: 'settled-elsewhere',
};

/**
 * Settles every committed device folder where a renewal was cut (`certificate.next.pem` left), one at a
 * time, with the settle the next renewal of that device would run (renewal-settle.ts).
 */
export async function resumeRenewals(storeDir: string, server: ResolvedServer, signal?: AbortSignal): Promise<RenewalReport[]> {
  const renewing = (await listStoredDevices(storeDir)).filter((device) => device.renewing === true);
  const reports: RenewalReport[] = [];
  for (const device of renewing) {
    const deviceDir = path.join(storeDir, device.entry);
    const base = { entry: device.entry, deviceName: device.deviceName, credentialsType: device.credentialsType };
    try {
      const settled = await settleRenewal(deviceDir, server, signal);
      const message = settled.message ?? `Another process settled the cut renewal in ${deviceDir} meanwhile.`;
      reports.push({ ...base, outcome: OUTCOMES[settled.outcome], message });
    } catch (error) {
      const reason = error instanceof ProvisionError ? error.message : String((error as Error)?.message ?? error).slice(0, 200);
      reports.push({ ...base, outcome: 'unknown', message: `The cut renewal in ${deviceDir} could not be settled (${reason}); both certificates are kept.` });
    }
  }
  return reports;
}
