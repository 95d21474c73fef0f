import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { AccessTokenCredentials, BasicCredentials, CredentialsType, DeviceCredentials, X509Credentials } from '../types';

/** MQTT's limit for a string field (client id, user name, password): a 16-bit length. */
const MQTT_STRING_BYTES = 65_535;

/** The login fields in words. */
const FIELD_NAMES: Record<string, string> = { accessToken: 'access token', clientId: 'client id', userName: 'user name', password: 'password' };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Why credentials cannot log in: a stable `reason` and what is wrong, in words that hold no secret. */
export interface LoginCredentialsProblem {
  reason: string;
  message: string;
}

/**
 * What makes credentials impossible to log in with before any socket is opened (mqtt.js and TLS would
 * throw while connecting): a malformed certificate, key or chain, a key that is encrypted or does not
 * match, a login field longer than MQTT allows. Undefined when they can be tried. Used by device
 * sessions before they take a connect slot and by resume before it logs in.
 */
export function loginCredentialsProblem(credentialsType: CredentialsType, credentials: DeviceCredentials): LoginCredentialsProblem | undefined {
  switch (credentialsType) {
    case 'ACCESS_TOKEN':
      return tooLong({ accessToken: (credentials as AccessTokenCredentials).accessToken });
    case 'MQTT_BASIC': {
      const { clientId, userName, password } = credentials as BasicCredentials;
      return tooLong({ clientId, userName, password });
    }
    case 'X509_CERTIFICATE':
      return x509Problem(credentials as X509Credentials);
  }
}

function tooLong(fields: Record<string, string | undefined>): LoginCredentialsProblem | undefined {
  for (const [field, value] of Object.entries(fields)) {
    // A UTF-16 unit is at most 3 bytes of UTF-8: most values need no count.
    if (value !== undefined && value.length * 3 > MQTT_STRING_BYTES && Buffer.byteLength(value) > MQTT_STRING_BYTES) {
      return {
        reason: `${field}-too-long`,
        message: `its ${FIELD_NAMES[field]} is ${Buffer.byteLength(value)} bytes, more than MQTT allows (${MQTT_STRING_BYTES})`,
      };
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

function x509Problem(x509: X509Credentials): LoginCredentialsProblem | undefined {
  const leaf = certificates(x509.certificate)?.[0];
  if (!leaf) return { reason: 'certificate', message: 'its certificate is not a PEM certificate' };
  if (x509.chain !== undefined && !certificates(x509.chain)) return { reason: 'chain', message: 'its chain is not a list of PEM certificates' };
  if (x509.privateKey === undefined) return { reason: 'key', message: 'it has no private key' };
  let key: KeyObject;
  try {
    key = createPrivateKey(x509.privateKey);
  } catch (error) {
    const encrypted = (error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(x509.privateKey);
    return encrypted
      ? { reason: 'key-encrypted', message: 'its private key is encrypted (give the key without a passphrase)' }
      : { reason: 'key', message: 'its private key is not a PEM private key' };
  }
  if (key.type !== 'private') return { reason: 'key', message: 'its private key is not a PEM private key' };
  if (!leaf.checkPrivateKey(key)) return { reason: 'key-mismatch', message: 'its private key does not belong to the certificate' };
  try {
    // What the TLS connection will do with them (unusual key types, a chain OpenSSL refuses).
    createSecureContext({ cert: x509.chain ? `${x509.certificate.trimEnd()}\n${x509.chain.trim()}\n` : x509.certificate, key: x509.privateKey });
  } catch (error) {
    return { reason: 'tls', message: `TLS cannot use its certificate and key (${(error as Error).message})` };
  }
  return undefined;
}
