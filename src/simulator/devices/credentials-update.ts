import type { DeviceBroker } from './device-broker';
import { REASON } from '../packets';

/**
 * A credentials update (rotation by chain, or by an administrator) closes every open session of the device
 * (protocol-more.md §4; ThingsBoard's `DeviceCredentialsUpdateNotificationMsg` → `onDeviceUpdate`): MQTT 5
 * DISCONNECT 0x98 "administrative action", 3.1.1 closed. The old credentials then fail to log in.
 */
export function closeSessionsOnCredentialsUpdate(broker: DeviceBroker, deviceName: string, log: (line: string) => void): void {
  const closed = broker.disconnectSessionsOf(deviceName, REASON.administrativeAction);
  if (closed > 0) log(`device ${deviceName}: credentials updated; ${closed} open session(s) closed (0x98)`);
}
