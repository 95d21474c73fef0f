import type { BasicCredentials, ProvisionResult, ServerOptions } from '../provisioning/types';

/**
 * Keys of the core `mqtt` node's dynamic `connect` action (`msg.broker`), as read by
 * `setOptions` in @node-red/nodes/core/network/10-mqtt.js.
 */
export interface MqttNodeBroker {
  broker: string;
  port: number;
  usetls: boolean;
  verifyservercert: boolean;
  protocolVersion: 4 | 5;
  clientid: string;
  username: string;
  password: string;
  /** Cycle the connection when the mqtt node is already connected. */
  force: true;
}

/** The result as it goes into the message: a copy, without the private key when the user asked so. */
export function outputResult(result: ProvisionResult, includePrivateKey: boolean): ProvisionResult {
  const copy: ProvisionResult = { ...result, credentials: { ...result.credentials }, connectOptions: { ...result.connectOptions } };
  if (!includePrivateKey) {
    delete (copy.credentials as { privateKey?: string }).privateKey;
    delete copy.connectOptions.key;
  }
  return copy;
}

/**
 * `msg.broker` for ACCESS_TOKEN and MQTT_BASIC devices; undefined for X.509, whose client
 * certificate the core mqtt node cannot take from a message (its TLS comes from a tls-config node).
 */
export function mqttNodeBroker(result: ProvisionResult, server: ServerOptions): MqttNodeBroker | undefined {
  const common = {
    broker: result.server.host,
    port: result.server.port,
    usetls: result.server.tls,
    verifyservercert: server.rejectUnauthorized !== false,
    protocolVersion: server.protocolVersion ?? 4,
    force: true as const,
  };
  if (result.credentialsType === 'ACCESS_TOKEN' && 'accessToken' in result.credentials) {
    // An empty clientid makes the mqtt node generate one; the token is the MQTT user name.
    return { ...common, clientid: '', username: result.credentials.accessToken, password: '' };
  }
  if (result.credentialsType === 'MQTT_BASIC') {
    const basic = result.credentials as BasicCredentials;
    return { ...common, clientid: basic.clientId ?? '', username: basic.userName ?? '', password: basic.password ?? '' };
  }
  return undefined;
}
