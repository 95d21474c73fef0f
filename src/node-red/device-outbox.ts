import type { ConnectionPool } from '../device/connection-pool';
import type { DeviceIdentity } from '../device/device-identity';
import { outboxPublisher } from '../device/outbox-publisher';
import { parseGatewayChildKey, type OutboxLink } from './node-outbox';

export { outboxSettings } from './node-outbox';

/**
 * gridlinks-device's side of the outbox: a device's records are filed under its name and sent through
 * the node's session pool; a device with a backlog after a restart logs in with what the store folder holds.
 * Gateway children's records in a shared folder are not the device node's.
 */
export function deviceOutboxLink(
  pool: ConnectionPool,
  identityByName: (deviceName: string) => Promise<DeviceIdentity | undefined>,
): OutboxLink<DeviceIdentity> {
  return {
    owns: (key) => parseGatewayChildKey(key) === undefined,
    isConnected: (key) => pool.isConnected(key),
    isDown: (key) => pool.isDown(key),
    targetByKey: identityByName,
    letGo: (key) => pool.closeIdleOf(key),
    publish: (identity, entries) => outboxPublisher(pool, () => identity)(identity.deviceName, [...entries]),
  };
}
