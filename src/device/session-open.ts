import type { MqttClient } from 'mqtt';
import { closeClient, openMqttClient } from '../provisioning/net';
import type { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';
import { deviceConnectError, deviceConnectTimeout, deviceConnectionClosed } from './device-errors';
import { sessionOptions, type DeviceIdentity } from './device-identity';

/**
 * mqtt.js options that cut its work per publish: its debug logger is called a dozen times per message
 * and is a no-op unless DEBUG is set (then it is kept, so DEBUG=mqttjs* still works); with
 * reschedulePings off the keepalive timer is not re-armed on every packet (one PINGREQ a minute instead).
 */
export const PER_MESSAGE_SAVINGS = {
  reschedulePings: false,
  ...(process.env.DEBUG ? {} : { log: () => {} }),
};

/** What an opening session tells its connection. */
export interface OpeningEvents {
  /** Still the connection's client: close() drops it, and what a dropped client does later is ignored. */
  isCurrent(client: MqttClient): boolean;
  /** Logged in and subscribed: the session is up. */
  ready(client: MqttClient): void;
  /** The attempt failed before the session was up (its client is closing already). */
  failed(error: ProvisionError): void;
  /** The session dropped after it was up; `reasonCode`: the server's MQTT 5 DISCONNECT, if it sent one. */
  lost(client: MqttClient, reasonCode: number | undefined): void;
  message(topic: string, payload: Buffer): void;
}

/**
 * Opens one session of the device (no reconnects of mqtt.js' own, a clean session) and subscribes to
 * `topics`: up when both are done, failed on an error, a close or no CONNACK within the connect timeout.
 * Throws what mqtt.js throws for options it cannot use. Returns the client and the connect timer (for close()).
 */
export function openSession(
  server: ResolvedServer,
  identity: DeviceIdentity,
  topics: string[],
  events: OpeningEvents,
): { client: MqttClient; connectTimer: NodeJS.Timeout } {
  const { deviceName } = identity;
  const client = openMqttClient({
    ...sessionOptions(server, identity),
    ...PER_MESSAGE_SAVINGS,
    reconnectPeriod: 0,
    clean: true,
    keepalive: 60,
    resubscribe: false,
    // Our own timer fires first and reports TIMEOUT; this is a backstop.
    connectTimeout: server.connectTimeoutMs + 5_000,
  });
  let ready = false;
  let over = false;
  let disconnectReason: number | undefined;
  const failed = (error: ProvisionError): void => {
    if (ready || over || !events.isCurrent(client)) return;
    over = true;
    clearTimeout(connectTimer);
    events.failed(error);
    void closeClient(client, false);
  };
  const connectTimer = setTimeout(() => failed(deviceConnectTimeout(server, deviceName)), server.connectTimeoutMs);
  client.on('error', (error) => failed(deviceConnectError(error, server, deviceName)));
  // MQTT 5: the server says why it ends the session (0x8E taken over, 0x98 credentials updated, 0x83 a rate limit) before it closes.
  client.on('disconnect', (packet: { reasonCode?: number }) => {
    disconnectReason = packet.reasonCode;
  });
  client.on('close', () => {
    if (ready) events.lost(client, disconnectReason);
    else failed(deviceConnectionClosed(server, deviceName));
  });
  client.on('message', (topic, payload) => events.message(topic, payload));
  client.once('connect', () => {
    client.subscribe(topics, { qos: 1 }, (error) => {
      if (error) return failed(deviceConnectError(error, server, deviceName));
      if (!events.isCurrent(client)) return;
      clearTimeout(connectTimer);
      ready = true;
      events.ready(client);
    });
  });
  return { client, connectTimer };
}
