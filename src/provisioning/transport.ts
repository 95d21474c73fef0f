import { exchangeProvisionRequest } from './exchange';
import { exchangeProvisionRequestHttp } from './http-exchange';
import type { ResolvedServer } from './validate';

/** The provisioning exchange of the server's transport: MQTT sessions or HTTP(S) POST, same signature. */
export function exchangeFor(server: ResolvedServer): typeof exchangeProvisionRequest {
  return server.transport === 'http' ? exchangeProvisionRequestHttp : exchangeProvisionRequest;
}

/** Where the device connects with its new credentials: always MQTT, on the verify port after HTTP provisioning. */
export function deviceEndpoint(server: ResolvedServer): ResolvedServer {
  return server.transport === 'http' ? { ...server, transport: 'mqtt', port: server.verifyPort } : server;
}
