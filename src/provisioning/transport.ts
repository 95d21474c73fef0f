import type { exchangeProvisionRequest } from './exchange';
import type { ResolvedServer } from './validate';

/**
 * The provisioning exchange of the server's transport: MQTT sessions or HTTP(S) POST, same signature.
 * Each is loaded on first use, so a one-shot run never loads the other transport's modules (mqtt.js
 * is most of the CLI's cold start).
 */
export function exchangeFor(server: ResolvedServer): typeof exchangeProvisionRequest {
  return server.transport === 'http'
    ? (require('./http-exchange') as typeof import('./http-exchange')).exchangeProvisionRequestHttp
    : (require('./exchange') as typeof import('./exchange')).exchangeProvisionRequest;
}

/** Where the device connects with its new credentials: always MQTT, on the verify port after HTTP provisioning. */
export function deviceEndpoint(server: ResolvedServer): ResolvedServer {
  return server.transport === 'http' ? { ...server, transport: 'mqtt', port: server.verifyPort } : server;
}
