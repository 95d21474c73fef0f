import type { Duplex } from 'node:stream';
import { DeviceControl, type DeviceSession } from './device-control';
import { isKnownPublishTopic, isSupportedSubscription, isUnparseableBody } from './device-topics';
import type { SessionWire } from './session-wire';
import { countDataPoints, sessionLimitsAnswer, type RateLimiter } from '../limits';
import { REASON } from '../packets';
import type { DeviceRecord, SessionLimitsConfig, TelemetryRecord } from '../types';

// typescript-eslint reads the import attributes of this type query as a value.
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
type AedesModule = typeof import('aedes', { with: { 'resolution-mode': 'import' } });
type AedesBroker = InstanceType<AedesModule['Aedes']>;

export const TELEMETRY_TOPICS: ReadonlySet<string> = new Set(['v1/devices/me/telemetry', 'v1/devices/me/attributes']);
export const GATEWAY_TOPIC_PREFIX = 'v1/gateway/';

/** A publish on v1/gateway/*, handed to the gateway room with the ways to answer it. */
export interface GatewayPublish {
  device: DeviceRecord;
  session: DeviceSession;
  wire: SessionWire;
  topic: string;
  payload: Buffer;
  messageId: number | undefined;
  /** Taken, PUBACK for QoS 1. */
  ack(): void;
  /** Taken, no PUBACK, nothing else (the session goes on). */
  drop(): void;
}

export interface DeviceBrokerOptions {
  onTelemetry(record: TelemetryRecord): void;
  isSilent(): boolean;
  limits: SessionLimitsConfig;
  rateLimiter: RateLimiter;
  /** Open sessions per device, 0 = any number. */
  maxSessionsPerDevice: number;
  /** Keep aedes' close of a session silent for 1.5 × its keepalive (GridLinks has no such check: off by default). */
  keepaliveClose: boolean;
  log(line: string): void;
}

interface AdoptedSession {
  device: DeviceRecord;
  wire: SessionWire;
}

/** The fields aedes keeps a session's keepalive timer in (lib/handlers/connect.js setKeepAlive). */
interface AedesKeepalive {
  _keepaliveTimer: NodeJS.Timeout | null;
  _keepaliveInterval: number;
}

/** GridLinks' MQTT transport has no idle check of its own: aedes' 1.5 × keepalive timer is stopped. */
function stopKeepaliveCheck(client: AedesKeepalive): void {
  if (client._keepaliveTimer) clearTimeout(client._keepaliveTimer);
  client._keepaliveTimer = null;
  client._keepaliveInterval = -1;
}

export function decodePayload(payload: Buffer | string): unknown {
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
  private readonly adopted = new WeakMap<object, AdoptedSession>();
  /** RPCs, shared attributes, attribute requests, client-side RPCs. */
  readonly control: DeviceControl;
  /** Set by the simulator: the gateway room's handler. Without it, gateway publishes are dropped. */
  onGatewayPublish: (publish: GatewayPublish) => void = (publish) => publish.drop();

  private constructor(
    private readonly aedes: AedesBroker,
    private readonly options: DeviceBrokerOptions,
  ) {
    this.control = new DeviceControl((device, method) => (method === 'getSessionLimits' ? sessionLimitsAnswer(options.limits, device.gateway) : undefined));
  }

  static async create(options: DeviceBrokerOptions): Promise<DeviceBroker> {
    const { Aedes } = await import('aedes');
    const aedes = await Aedes.createBroker({
      // GridLinks accepts long client ids on MQTT 3.1 too
      maxClientsIdLength: 65535,
      authenticate: (client, _username, _password, done) => {
        if (broker.adopted.has(client.conn)) done(null, true);
        else done(Object.assign(new Error('not authorized'), { returnCode: 5 as const }), false);
      },
      authorizePublish: (client, packet, done) => {
        const adopted = client ? broker.adopted.get(client.conn) : undefined;
        if (!adopted) return done(new Error('not a device session'));
        // Fault deviceSilent, or a session the server is closing: taken, never acknowledged nor answered.
        if (options.isSilent() || adopted.wire.closing) return;
        // GridLinks keeps nothing retained; a device's publishes reach no other session.
        packet.retain = false;
        const session = client as unknown as DeviceSession;
        const payload = Buffer.from(packet.payload);
        const messageId = packet.qos > 0 ? packet.messageId : undefined;
        if (packet.topic.startsWith(GATEWAY_TOPIC_PREFIX)) {
          const drop = (): void => {
            // aedes writes the PUBACK of a QoS 1 publish once it is authorized: as QoS 0 it writes none.
            packet.qos = 0;
            done(null);
          };
          broker.onGatewayPublish({ ...adopted, session, topic: packet.topic, payload, messageId, ack: () => done(null), drop });
          return;
        }
        if (!broker.withinRateLimits(adopted, packet.topic, payload)) return;
        if (!isKnownPublishTopic(packet.topic)) {
          // MqttTransportHandler.processPublish: MQTT 5 PUBACK 0x90 (topic name invalid); 3.1.1 acknowledged. The session goes on.
          options.log(`device ${adopted.device.name}: publish on unknown topic ${packet.topic}`);
          if (adopted.wire.version === 5 && messageId !== undefined) {
            adopted.wire.acknowledge(messageId, REASON.topicNameInvalid);
            packet.qos = 0;
          }
          return done(null);
        }
        if (isUnparseableBody(packet.topic, payload)) {
          // A body the converter cannot parse: MQTT 5 PUBACK 0x99 (QoS 0: DISCONNECT 0x99), then the close; 3.1.1 closed.
          options.log(`device ${adopted.device.name}: body on ${packet.topic} cannot be parsed; closing the session`);
          adopted.wire.refusePublish(messageId, REASON.payloadFormatInvalid);
          return;
        }
        broker.control.devicePublished(adopted.device, session, packet.topic, payload);
        if (TELEMETRY_TOPICS.has(packet.topic)) {
          options.onTelemetry({
            device: adopted.device.name,
            topic: packet.topic as TelemetryRecord['topic'],
            payload: decodePayload(payload),
            ts: Date.now(),
          });
        }
        done(null);
      },
      // MqttTransportHandler.processSubscribe: a topic it does not serve is refused in the SUBACK (0x80; MQTT 5 0x8F, set by the bridge).
      authorizeSubscribe: (client, subscription, done) => {
        if (subscription && isSupportedSubscription(subscription.topic)) return done(null, subscription);
        options.log(`device session: subscription to ${subscription?.topic} refused (not a device API topic)`);
        done(null, null);
      },
      // Only what the server itself sends (no clientId) goes to a device session, never another device's publish.
      authorizeForward: (_client, packet) => ((packet as { clientId?: string }).clientId === undefined ? packet : undefined),
    });
    const broker = new DeviceBroker(aedes, options);
    aedes.on('client', (client) => {
      const adopted = broker.adopted.get(client.conn);
      if (!adopted) return;
      if (!options.keepaliveClose) stopKeepaliveCheck(client as unknown as AedesKeepalive);
      broker.control.sessionOpened(adopted.device.name, client as unknown as DeviceSession);
    });
    aedes.on('clientDisconnect', (client) => {
      const adopted = broker.adopted.get(client.conn);
      if (adopted) broker.control.sessionClosed(adopted.device.name, client as unknown as DeviceSession);
    });
    return broker;
  }

  /**
   * Hands an authenticated connection (its CONNECT still unread) to aedes. GridLinks keeps
   * `max_concurrent_sessions_per_device` sessions (1 by default): the oldest beyond it are evicted first.
   */
  adopt(connection: Duplex, device: DeviceRecord, wire: SessionWire): void {
    const max = this.options.maxSessionsPerDevice;
    if (max > 0) {
      const open = this.control.sessionsOf(device.name);
      for (const older of open.slice(0, Math.max(0, open.length - max + 1))) {
        this.options.log(`device ${device.name}: session taken over by a newer one`);
        this.adopted.get(older.conn)?.wire.disconnect(REASON.sessionTakenOver);
      }
    }
    this.adopted.set(connection, { device, wire });
    this.aedes.handle(connection);
  }

  /** Closes every open session of the device: MQTT 5 DISCONNECT with this reason, 3.1.1 just closed; returns how many. */
  disconnectSessionsOf(deviceName: string, reasonCode: number): number {
    const open = this.control.sessionsOf(deviceName);
    for (const session of open) this.adopted.get(session.conn)?.wire.disconnect(reasonCode);
    return open.length;
  }

  close(): Promise<void> {
    this.control.close();
    return new Promise((resolve) => this.aedes.close(() => resolve()));
  }

  /** Over a rate limit, GridLinks does not acknowledge the publish and closes the session (MQTT 5: DISCONNECT 0x83). */
  private withinRateLimits({ device, wire }: AdoptedSession, topic: string, payload: Buffer): boolean {
    const telemetry = topic === 'v1/devices/me/telemetry';
    const refused = this.options.rateLimiter.devicePublish(device.name, { telemetry, dataPoints: telemetry ? countDataPoints(decodePayload(payload)) : 0 });
    if (!refused) return true;
    this.options.log(`device ${device.name}: over its ${refused} rate limit; closing the session`);
    wire.disconnect(REASON.implementationSpecificError);
    return false;
  }
}
