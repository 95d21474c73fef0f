import type { OutboxEntry } from '../outbox';
import { ProvisionError } from '../provisioning/errors';
import type { ConnectionPool } from './connection-pool';
import type { DeviceIdentity } from './device-identity';
import { ATTRIBUTES_TOPIC, TELEMETRY_TOPIC } from './topics';

/**
 * The outbox's replay publishing through the pool's sessions (one per device, QoS 1): resolves once
 * every record of the batch has its PUBACK, rejects with the first session error (the batch then stays
 * in the outbox). `identityOf` names the login of a device key; a key it does not know rejects.
 */
export function outboxPublisher(pool: ConnectionPool, identityOf: (deviceKey: string) => DeviceIdentity | undefined) {
  return async (deviceKey: string, entries: readonly OutboxEntry[]): Promise<void> => {
    const identity = identityOf(deviceKey);
    if (!identity)
      throw new ProvisionError('INVALID_INPUT', `No login is known for device "${deviceKey}": its records stay in the outbox.`, {
        field: 'device',
        deviceName: deviceKey,
      });
    await Promise.all(
      entries.map((entry) =>
        pool.send(identity, { kind: entry.kind, topic: entry.kind === 'telemetry' ? TELEMETRY_TOPIC : ATTRIBUTES_TOPIC, body: entry.body }),
      ),
    );
  };
}
