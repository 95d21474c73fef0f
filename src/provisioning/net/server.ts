import type { ResolvedServer } from '../types';
import { invalid, oneOf, optionalBoolean, optionalInteger, optionalString, requiredString } from '../fields';
import { certificatesOnly } from './ca-bundle';

export const SERVER_DEFAULTS = {
  connectTimeoutMs: 10_000,
  answerTimeoutMs: 15_000,
  protocolVersion: 4 as const,
  /** GridLinks' own limit (NETTY_MAX_PAYLOAD_SIZE). */
  maxAnswerBytes: 65536,
};

export const TRANSPORTS: readonly ('mqtt' | 'http')[] = ['mqtt', 'http'];

/** MQTT 8883 / 1883; HTTP 443 / 8080 (GridLinks' HTTP transport port, HTTPS usually behind a proxy on 443). */
export function defaultPort(transport: 'mqtt' | 'http', tls: boolean): number {
  if (transport === 'http') return tls ? 443 : 8080;
  return tls ? 8883 : 1883;
}

export function validateServer(server: unknown): ResolvedServer {
  if (typeof server !== 'object' || server === null) throw invalid('server', 'server (host, port, TLS settings) is required.');
  const given = server as Record<string, unknown>;
  const host = requiredString(given.host, 'server.host', 'the GridLinks MQTT host name or IP address').trim();
  if (!host || /[\s/]/.test(host)) throw invalid('server.host', 'server.host must be a bare host name or IP address (no scheme, path or spaces).');
  const tls = optionalBoolean(given.tls, 'server.tls', true);
  const transport = oneOf(given.transport, 'server.transport', TRANSPORTS, 'mqtt');
  const port = optionalInteger(given.port, 'server.port', 1, 65535, defaultPort(transport, tls));
  const mqttPort = transport === 'mqtt' ? port : optionalInteger(given.verifyPort, 'server.verifyPort', 1, 65535, defaultPort('mqtt', tls));
  const givenCa = optionalString(given.ca, 'server.ca');
  const ca = givenCa === undefined ? undefined : certificatesOnly(givenCa, 'server.ca');
  const protocolVersion = optionalInteger(given.protocolVersion, 'server.protocolVersion', 4, 5, SERVER_DEFAULTS.protocolVersion);
  return {
    host,
    port,
    tls,
    ca,
    servername: optionalString(given.servername, 'server.servername'),
    rejectUnauthorized: optionalBoolean(given.rejectUnauthorized, 'server.rejectUnauthorized', true),
    protocolVersion: protocolVersion as 4 | 5,
    connectTimeoutMs: optionalInteger(given.connectTimeoutMs, 'server.connectTimeoutMs', 1, 600_000, SERVER_DEFAULTS.connectTimeoutMs),
    answerTimeoutMs: optionalInteger(given.answerTimeoutMs, 'server.answerTimeoutMs', 1, 600_000, SERVER_DEFAULTS.answerTimeoutMs),
    transport,
    verifyPort: mqttPort,
    maxAnswerBytes: optionalInteger(given.maxAnswerBytes, 'server.maxAnswerBytes', 1024, 16 * 1024 * 1024, SERVER_DEFAULTS.maxAnswerBytes),
  };
}

/** Where the device connects with its new credentials: always MQTT, on the verify port after HTTP provisioning. */
export function deviceEndpoint(server: ResolvedServer): ResolvedServer {
  return server.transport === 'http' ? { ...server, transport: 'mqtt', port: server.verifyPort } : server;
}
