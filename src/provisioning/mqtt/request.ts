import type { ResolvedOptions } from '../types';

export const REQUEST_TOPIC = '/provision/request';
export const RESPONSE_TOPIC = '/provision/response';

/** The JSON GridLinks reads on /provision/request (protocol.md §2). Absent fields are omitted, never null. */
export type ProvisionRequest = Record<string, string | boolean>;

/**
 * Builds the request. `certificate` is the PEM sent as `hash` (the key is misnamed: it carries the
 * certificate itself). Key order follows the GridLinks docs' examples.
 */
export function buildProvisionRequest(options: ResolvedOptions, certificate?: string): ProvisionRequest {
  const request: ProvisionRequest = {};
  if (options.deviceName !== undefined) request.deviceName = options.deviceName;
  request.provisionDeviceKey = options.provisionDeviceKey;
  request.provisionDeviceSecret = options.provisionDeviceSecret;
  request.credentialsType = options.credentialsType;
  switch (options.credentialsType) {
    case 'ACCESS_TOKEN':
      if (options.token !== undefined) request.token = options.token;
      break;
    case 'MQTT_BASIC':
      if (options.clientId !== undefined) request.clientId = options.clientId;
      if (options.username !== undefined) request.username = options.username;
      if (options.password !== undefined) request.password = options.password;
      break;
    case 'X509_CERTIFICATE':
      if (certificate === undefined) throw new Error('buildProvisionRequest: X509_CERTIFICATE needs the certificate');
      request.hash = certificate;
      break;
  }
  if (options.gateway) request.gateway = true;
  return request;
}
