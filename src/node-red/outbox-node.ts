import type { PoolCounts } from '../device/connection-pool';
import type { OutboxCounts } from '../outbox';
import type { DeviceOutbox } from './device-outbox';
import { statusText } from './device-status';

type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

/** The device node's status with its backlog: "N connected, M queued, K waiting", or "offline, K waiting (oldest X min)". */
export function outboxLabel(counts: PoolCounts, backlog: OutboxCounts | undefined, translate: Translate): string {
  const base = statusText(translate, 'gridlinks-device.status.counts', { ...counts }, `${counts.connected} connected, ${counts.queued} queued`);
  if (!backlog || backlog.waiting === 0) return base;
  const waiting = backlog.waiting.toLocaleString('en-US');
  if (counts.connected > 0) return statusText(translate, 'gridlinks-device.status.waiting', { base, waiting }, `${base}, ${waiting} waiting`);
  const minutes = Math.floor(backlog.oldestAgeMs / 60_000);
  return statusText(translate, 'gridlinks-device.status.offline-waiting', { waiting, minutes }, `offline, ${waiting} waiting (oldest ${minutes} min)`);
}

/** The warning for records dropped unsent (drop-oldest, or older than the age bound), naming the device. */
export function droppedWarning(translate: Translate, deviceName: string, count: number, reason: string): string {
  return statusText(
    translate,
    'gridlinks-device.warnings.dropped',
    { deviceName, count, reason },
    `${count} stored message(s) of device "${deviceName}" dropped unsent (${reason})`,
  );
}

/** msg.action "flush" (send every backlog now) or "purge" (drop `deviceName`'s backlog, or all): what output 1 reports. */
export async function outboxAction(outbox: DeviceOutbox, action: 'flush' | 'purge', deviceName: string | undefined): Promise<Record<string, unknown>> {
  if (action === 'flush') return { action, waiting: await outbox.flush() };
  return { action, purged: await outbox.purge(deviceName), ...(deviceName ? { deviceName } : {}) };
}
