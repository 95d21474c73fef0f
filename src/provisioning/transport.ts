import type { exchangeProvisionRequest } from './mqtt';
import type { ResolvedServer } from './types';

/**
 * The provisioning exchange of the server's transport: MQTT sessions or HTTP(S) POST, same signature.
 * Each is loaded on first use, so a one-shot run never loads the other transport's modules (mqtt.js
 * is most of the CLI's cold start).
 */
export function exchangeFor(server: ResolvedServer): typeof exchangeProvisionRequest {
  return server.transport === 'http'
    ? (require('./http') as typeof import('./http')).exchangeProvisionRequestHttp
    : (require('./mqtt') as typeof import('./mqtt')).exchangeProvisionRequest;
}
