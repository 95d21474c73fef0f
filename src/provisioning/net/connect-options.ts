import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { trustOnlySecureContext } from './secure-contexts';
import type { ResolvedServer, AccessTokenCredentials, BasicCredentials, CredentialsType, DeviceCredentials, X509Credentials } from '../types';

/** Host, port, TLS trust and protocol version: what every connection to this server shares. */
export function transportOptions(server: ResolvedServer): IClientOptions {
  const options: IClientOptions = {
    host: server.host,
    port: server.port,
    protocol: server.tls ? 'mqtts' : 'mqtt',
    protocolVersion: server.protocolVersion,
  };
  if (server.tls) {
    if (server.ca !== undefined) options.ca = server.ca;
    if (server.servername !== undefined) options.servername = server.servername;
    options.rejectUnauthorized = server.rejectUnauthorized;
  }
  return options;
}

/** One short-lived provisioning session: username `provision`, unique client id, no reconnects, clean session. */
export function provisioningSessionOptions(server: ResolvedServer): IClientOptions {
  return {
    ...transportOptions(server),
    ...(server.tls ? { secureContext: trustOnlySecureContext(server.ca) } : {}),
    username: 'provision',
    clientId: `provision-${randomBytes(8).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    keepalive: 60,
    resubscribe: false,
    // Our own timer (connectTimeoutMs) fires first and reports TIMEOUT; this is only a backstop.
    connectTimeout: server.connectTimeoutMs + 5_000,
    // MQTT 5: tells the server the limit; a bigger packet is cut off by our own guard as it arrives.
    ...(server.protocolVersion === 5 ? { properties: { maximumPacketSize: server.maxAnswerBytes } } : {}),
  };
}

/** mqtt.js options for the device's own connection with its new credentials (protocol.md §5). */
export function deviceConnectOptions(server: ResolvedServer, credentialsType: CredentialsType, credentials: DeviceCredentials): IClientOptions {
  const options = transportOptions(server);
  switch (credentialsType) {
    case 'ACCESS_TOKEN':
      options.username = (credentials as AccessTokenCredentials).accessToken;
      break;
    case 'MQTT_BASIC': {
      const basic = credentials as BasicCredentials;
      if (basic.clientId) options.clientId = basic.clientId;
      if (basic.userName) options.username = basic.userName;
      if (basic.password) options.password = basic.password;
      break;
    }
    case 'X509_CERTIFICATE': {
      const x509 = credentials as X509Credentials;
      options.cert = x509.certificate;
      if (x509.privateKey !== undefined) options.key = x509.privateKey;
      break;
    }
  }
  return options;
}
