import { certificateNotAfter, type StoredDeviceSummary } from '../provisioning/store';

/** How far ahead a certificate's end is warned about, when the node does not say. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;
export const DAY_MS = 86_400_000;

/** The node's warning window in days: a number from 0 to 3650 (fractions allowed), else the default. */
export function expiryWindowDays(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_EXPIRY_WARNING_DAYS;
  const days = Number(value);
  return Number.isFinite(days) && days >= 0 && days <= 3650 ? days : DEFAULT_EXPIRY_WARNING_DAYS;
}

/** English warning for one certificate inside the window (like the core's messages); names the device, never a secret. */
export function expiryWarning(deviceName: string, notAfter: string, now = Date.now()): string {
  const left = Date.parse(notAfter) - now;
  const when = left <= 0 ? `expired on ${notAfter}` : `expires on ${notAfter} (in ${Math.ceil(left / DAY_MS)} day(s))`;
  return `The certificate of device "${deviceName}" ${when}: renew it (msg.action = "renew" for a chain device) before it can no longer log in.`;
}

/** The name a summary is shown by: the device name, else its store entry. */
export function summaryName(device: Pick<StoredDeviceSummary, 'deviceName' | 'entry'>): string {
  return device.deviceName ?? device.entry;
}

/** The end of validity of the device's certificate when it is inside the window, else undefined. */
export function notAfterInside(certificatePem: string | undefined, windowDays: number, now = Date.now()): string | undefined {
  const notAfter = certificateNotAfter(certificatePem);
  return notAfter !== undefined && Date.parse(notAfter) - now <= windowDays * DAY_MS ? notAfter : undefined;
}
