import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ProvisionError } from '../provisioning/errors';
import type { AccessTokenCredentials, BasicCredentials, X509Credentials } from '../provisioning/types';
import type { DeviceIdentity } from './device-identity';

/** An MQTT string (client id, user name, password) carries a 16-bit length. */
const MAX_MQTT_STRING_BYTES = 65_535;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function unusable(deviceName: string, reason: string, what: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', `The credentials of device "${deviceName}" cannot be used: ${what}. No session was opened and nothing was sent.`, {
    field: 'device',
    deviceName,
    reason,
  });
}

function tooLong(identity: DeviceIdentity, fields: Record<string, string | undefined>): ProvisionError | undefined {
  for (const [field, value] of Object.entries(fields)) {
    // A UTF-16 unit is at most 3 bytes of UTF-8: most values need no count.
    if (value !== undefined && value.length * 3 > MAX_MQTT_STRING_BYTES && Buffer.byteLength(value) > MAX_MQTT_STRING_BYTES) {
      return unusable(identity.deviceName, `${field}-too-long`, `its ${field} is longer than MQTT allows (${MAX_MQTT_STRING_BYTES} bytes)`);
    }
  }
  return undefined;
}

function certificates(pem: string): X509Certificate[] | undefined {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0 || pem.replace(PEM_CERTIFICATE, '').trim() !== '') return undefined;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}

function x509Problem(deviceName: string, credentials: X509Credentials & { chain?: string }): ProvisionError | undefined {
  const leaf = certificates(credentials.certificate)?.[0];
  if (!leaf) return unusable(deviceName, 'certificate', 'its certificate is not a PEM certificate');
  if (credentials.chain !== undefined && !certificates(credentials.chain)) return unusable(deviceName, 'chain', 'its chain is not a list of PEM certificates');
  let key: KeyObject;
  try {
    key = createPrivateKey(credentials.privateKey ?? '');
  } catch (error) {
    const encrypted = (error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(credentials.privateKey ?? '');
    return encrypted
      ? unusable(deviceName, 'key-encrypted', 'its private key is encrypted (give the key without a passphrase)')
      : unusable(deviceName, 'key', 'its private key is not a PEM private key');
  }
  if (key.type !== 'private') return unusable(deviceName, 'key', 'its private key is not a PEM private key');
  if (!leaf.checkPrivateKey(key)) return unusable(deviceName, 'key-mismatch', 'its certificate and its private key do not match');
  try {
    // What the TLS connection will do with them (unusual key types, a chain OpenSSL refuses).
    createSecureContext({
      cert: credentials.chain ? `${credentials.certificate.trimEnd()}\n${credentials.chain.trim()}\n` : credentials.certificate,
      key: credentials.privateKey,
    });
  } catch (error) {
    return unusable(deviceName, 'tls', `TLS cannot use its certificate and key (${(error as Error).message})`);
  }
  return undefined;
}

/**
 * What would make a session of `identity` fail before a byte is sent (a malformed certificate, key
 * or chain, a key that is encrypted or does not match, a login longer than MQTT allows): checked
 * before the device takes a place or a connect slot. Undefined when there is nothing to say.
 */
export function credentialsProblem(identity: DeviceIdentity): ProvisionError | undefined {
  switch (identity.credentialsType) {
    case 'ACCESS_TOKEN':
      return tooLong(identity, { accessToken: (identity.credentials as AccessTokenCredentials).accessToken });
    case 'MQTT_BASIC': {
      const { clientId, userName, password } = identity.credentials as BasicCredentials;
      return tooLong(identity, { clientId, userName, password });
    }
    case 'X509_CERTIFICATE':
      return x509Problem(identity.deviceName, identity.credentials as X509Credentials & { chain?: string });
  }
}
