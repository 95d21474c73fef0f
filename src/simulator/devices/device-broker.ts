import type { Duplex } from 'node:stream';
import { DeviceControl, type DeviceSession } from './device-control';
import type { DeviceRecord, TelemetryRecord } from '../types';

// typescript-eslint reads the import attributes of this type query as a value.
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
type AedesModule = typeof import('aedes', { with: { 'resolution-mode': 'import' } });
type AedesBroker = InstanceType<AedesModule['Aedes']>;

export const TELEMETRY_TOPICS: ReadonlySet<string> = new Set(['v1/devices/me/telemetry', 'v1/devices/me/attributes']);

function decodePayload(payload: Buffer | string): unknown {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Device sessions run on aedes: the connection gate has already authenticated the CONNECT (the decision is
 * GridLinks'), aedes then serves the session (keep-alive, QoS, subscriptions) and we keep telemetry/attributes.
 */
export class DeviceBroker {
  private readonly devicesByConnection = new WeakMap<object, DeviceRecord>();
  /** RPCs, shared attributes, attribute requests. */
  readonly control = new DeviceControl();

  private constructor(private readonly aedes: AedesBroker) {}

  static async create(onTelemetry: (record: TelemetryRecord) => void, isSilent: () => boolean = () => false): Promise<DeviceBroker> {
    const { Aedes } = await import('aedes');
    const aedes = await Aedes.createBroker({
      // GridLinks accepts long client ids on MQTT 3.1 too
      maxClientsIdLength: 65535,
      authenticate: (client, _username, _password, done) => {
        if (broker.devicesByConnection.has(client.conn)) done(null, true);
        else done(Object.assign(new Error('not authorized'), { returnCode: 5 as const }), false);
      },
      authorizePublish: (client, packet, done) => {
        const device = client ? broker.devicesByConnection.get(client.conn) : undefined;
        if (!device) return done(new Error('not a device session'));
        // Fault deviceSilent: the publish is taken and never acknowledged, nothing is answered.
        if (isSilent()) return;
        // GridLinks keeps nothing retained; a device's publishes reach no other session.
        packet.retain = false;
        broker.control.devicePublished(device.name, client as unknown as DeviceSession, packet.topic, Buffer.from(packet.payload));
        if (TELEMETRY_TOPICS.has(packet.topic)) {
          onTelemetry({
            device: device.name,
            topic: packet.topic as TelemetryRecord['topic'],
            payload: decodePayload(packet.payload),
            ts: Date.now(),
          });
        }
        done(null);
      },
      // Only what the server itself sends (no clientId) goes to a device session, never another device's publish.
      authorizeForward: (_client, packet) => ((packet as { clientId?: string }).clientId === undefined ? packet : undefined),
    });
    const broker = new DeviceBroker(aedes);
    aedes.on('client', (client) => {
      const device = broker.devicesByConnection.get(client.conn);
      if (device) broker.control.sessionOpened(device.name, client as unknown as DeviceSession);
    });
    aedes.on('clientDisconnect', (client) => {
      const device = broker.devicesByConnection.get(client.conn);
      if (device) broker.control.sessionClosed(device.name, client as unknown as DeviceSession);
    });
    return broker;
  }

  /** Hands an authenticated connection (its CONNECT still unread) to aedes. */
  adopt(connection: Duplex, device: DeviceRecord): void {
    this.devicesByConnection.set(connection, device);
    this.aedes.handle(connection);
  }

  close(): Promise<void> {
    this.control.close();
    return new Promise((resolve) => this.aedes.close(() => resolve()));
  }
}
