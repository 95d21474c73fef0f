import type { PeerCertificate } from 'node:tls';
import { sha3Hex } from '../../provisioning/x509';
import { authenticateByChain } from '../provisioning';
import { parseBasicValue, type Registry } from '../registry';
import { REFUSE_BAD_CREDENTIALS, REFUSE_IDENTIFIER, REFUSE_NOT_AUTHORIZED, type Refusal } from '../packets';
import type { DeviceRecord } from '../types';

export type DeviceAuthResult = { device: DeviceRecord; refusal?: undefined } | { device?: undefined; refusal: Refusal; reason: string };

export interface DeviceConnectCredentials {
  clientId: string;
  username?: string;
  password?: Buffer;
  /** The leaf certificate the client presented on the TLS listener, if any. */
  peerCertificate?: PeerCertificate;
}

function refuse(refusal: Refusal, reason: string): DeviceAuthResult {
  return { refusal, reason };
}

function authenticateCertificate(registry: Registry, certificate: PeerCertificate, now: number): DeviceAuthResult {
  const known = registry.deviceByCredentialsId(sha3Hex(certificate.raw.toString('base64')));
  const expired = now < Date.parse(certificate.valid_from) || now > Date.parse(certificate.valid_to);
  if (!known && expired) return refuse(REFUSE_NOT_AUTHORIZED, 'client certificate is expired or not yet valid');
  const found = known ? { device: known } : authenticateByChain(registry, certificate);
  if (found.refusal) return found;
  const device = found.device;
  if (device.credentials.credentialsType !== 'X509_CERTIFICATE') {
    return refuse(REFUSE_NOT_AUTHORIZED, 'client certificate matches no device');
  }
  if (expired) {
    return refuse(REFUSE_NOT_AUTHORIZED, `client certificate of ${device.name} is expired or not yet valid`);
  }
  return { device };
}

/** Stored MQTT_BASIC fields that are set must match what the client sent. */
function basicMatches(device: DeviceRecord, clientId: string, username: string, password: string): boolean {
  const stored = parseBasicValue(device.credentials.credentialsValue);
  return (
    (!stored.clientId || stored.clientId === clientId) &&
    (!stored.userName || stored.userName === username) &&
    (!stored.password || stored.password === password)
  );
}

/** CONNECT of a non-provisioning session, decided as GridLinks does (protocol.md §5). */
export function authenticateDevice(registry: Registry, credentials: DeviceConnectCredentials, now = Date.now()): DeviceAuthResult {
  if (credentials.peerCertificate?.raw) return authenticateCertificate(registry, credentials.peerCertificate, now);
  const clientId = credentials.clientId ?? '';
  const username = credentials.username ?? '';
  const password = credentials.password ? credentials.password.toString('utf8') : '';
  if (!username) {
    const device = clientId ? registry.deviceByCredentialsId(sha3Hex(clientId)) : undefined;
    if (device?.credentials.credentialsType === 'MQTT_BASIC' && basicMatches(device, clientId, username, password)) return { device };
    return refuse(REFUSE_IDENTIFIER, 'no username and the client id matches no device');
  }
  if (clientId) {
    const device = registry.deviceByCredentialsId(sha3Hex(`${clientId}|${username}`));
    if (device?.credentials.credentialsType === 'MQTT_BASIC') {
      if (basicMatches(device, clientId, username, password)) return { device };
      return refuse(REFUSE_BAD_CREDENTIALS, `wrong password for ${device.name}`);
    }
  }
  const device = registry.deviceByCredentialsId(username);
  if (device?.credentials.credentialsType === 'ACCESS_TOKEN') return { device };
  if (device?.credentials.credentialsType === 'MQTT_BASIC' && basicMatches(device, clientId, username, password)) return { device };
  return refuse(REFUSE_BAD_CREDENTIALS, 'username matches no device credentials');
}
