import { createHash } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type { IClientOptions } from 'mqtt';
import { deviceConnectOptions, trustOnlySecureContext } from '../provisioning/net';
import { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer, AccessTokenCredentials, BasicCredentials, CredentialsType, DeviceCredentials, X509Credentials } from '../provisioning/types';

/** A device the node can act as: its name and what it logs in with. */
export interface DeviceIdentity {
  deviceName: string;
  credentialsType: CredentialsType;
  credentials: DeviceCredentials & { chain?: string };
}

const TYPES: readonly CredentialsType[] = ['X509_CERTIFICATE', 'ACCESS_TOKEN', 'MQTT_BASIC'];

function invalid(message: string, deviceName?: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field: 'device', ...(deviceName ? { deviceName } : {}) });
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * `msg.device` as gridlinks-provision emits it (`{deviceName, credentialsType, credentials}`), checked
 * enough that a connection can be tried. X.509 credentials may carry a `chain` (PEM) sent after the leaf.
 */
export function identityFromMessage(device: unknown): DeviceIdentity {
  if (typeof device !== 'object' || device === null) {
    throw invalid(
      'msg.device must be a provisioned device ({deviceName, credentialsType, credentials}, as gridlinks-provision sends it), or set a store folder and msg.deviceName.',
    );
  }
  const record = device as Record<string, unknown>;
  const credentials = (typeof record.credentials === 'object' && record.credentials !== null ? record.credentials : {}) as Record<string, unknown>;
  const credentialsType = record.credentialsType as CredentialsType;
  const deviceName = text(record.deviceName) ?? unnamed(credentials);
  if (!TYPES.includes(credentialsType))
    throw invalid(`msg.device.credentialsType of "${deviceName}" must be X509_CERTIFICATE, ACCESS_TOKEN or MQTT_BASIC.`, deviceName);
  switch (credentialsType) {
    case 'ACCESS_TOKEN': {
      const accessToken = text(credentials.accessToken);
      if (!accessToken) throw invalid(`msg.device.credentials.accessToken of "${deviceName}" is missing.`, deviceName);
      return { deviceName, credentialsType, credentials: { accessToken } };
    }
    case 'MQTT_BASIC': {
      const basic: BasicCredentials = {};
      for (const field of ['clientId', 'userName', 'password'] as const) {
        const value = text(credentials[field]);
        if (value !== undefined) basic[field] = value;
      }
      if (!basic.clientId && !basic.userName) throw invalid(`msg.device.credentials of "${deviceName}" need a clientId or a userName.`, deviceName);
      return { deviceName, credentialsType, credentials: basic };
    }
    case 'X509_CERTIFICATE': {
      const certificate = text(credentials.certificate);
      const privateKey = text(credentials.privateKey);
      if (!certificate || !privateKey) {
        throw invalid(
          `msg.device.credentials of "${deviceName}" need the certificate and the private key (PEM) to connect; a result without its key needs the store folder.`,
          deviceName,
        );
      }
      const chain = text(credentials.chain);
      return {
        deviceName,
        credentialsType,
        credentials: { certificate, privateKey, credentialsId: text(credentials.credentialsId) ?? '', ...(chain ? { chain } : {}) },
      };
    }
  }
}

function unnamed(credentials: Record<string, unknown>): string {
  const id = text(credentials.credentialsId) ?? text(credentials.accessToken) ?? text(credentials.clientId) ?? text(credentials.userName) ?? '';
  return `@unnamed-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

/** Same device name and same login ⇒ same connection; new credentials under an old name get a connection of their own. */
export function identityKey(identity: DeviceIdentity): string {
  const credentials = identity.credentials as Partial<AccessTokenCredentials & BasicCredentials & X509Credentials>;
  let login: string;
  if (identity.credentialsType === 'ACCESS_TOKEN') login = credentials.accessToken ?? '';
  else if (identity.credentialsType === 'MQTT_BASIC') login = JSON.stringify([credentials.clientId, credentials.userName, credentials.password]);
  else
    login = createHash('sha256')
      .update(credentials.certificate ?? '')
      .digest('hex');
  return `${identity.deviceName}\0${identity.credentialsType}\0${login}`;
}

/** Same login as identityKey() would tell, without building the key (the certificate compared as text). */
export function sameLogin(a: DeviceIdentity, b: DeviceIdentity): boolean {
  if (a.credentialsType !== b.credentialsType) return false;
  const x = a.credentials as Partial<AccessTokenCredentials & BasicCredentials & X509Credentials>;
  const y = b.credentials as Partial<AccessTokenCredentials & BasicCredentials & X509Credentials>;
  if (a.credentialsType === 'ACCESS_TOKEN') return x.accessToken === y.accessToken;
  if (a.credentialsType === 'MQTT_BASIC') return x.clientId === y.clientId && x.userName === y.userName && x.password === y.password;
  return x.certificate === y.certificate;
}

/** mqtt.js options for the device's session: the core's device options; an X.509 chain follows the leaf. */
export function sessionOptions(server: ResolvedServer, identity: DeviceIdentity): IClientOptions & { secureContext?: SecureContext } {
  const options = deviceConnectOptions(server, identity.credentialsType, identity.credentials);
  if (identity.credentialsType === 'X509_CERTIFICATE') {
    const x509 = identity.credentials as X509Credentials & { chain?: string };
    if (x509.chain) options.cert = `${x509.certificate.trimEnd()}\n${x509.chain.trim()}\n`;
    return options;
  }
  // Without a client certificate every session to this server trusts the same CAs: one TLS context for all of them.
  return server.tls ? { ...options, secureContext: trustOnlySecureContext(server.ca) } : options;
}
