import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import {
  MAX_NAME_LENGTH,
  invalid,
  noControlCharacters,
  oneOf,
  optionalBoolean,
  optionalInteger,
  optionalString,
  requiredString,
  validateDeviceName,
} from './fields';
import { DEFAULT_KEY_ALGORITHM, DEVICE_KEY_POLICY, KEY_ALGORITHMS, describeKey, isSupportedDeviceKey } from './keys';
import { SERVER_DEFAULTS, validateServer } from './net';
import { DEFAULT_VALIDITY_DAYS } from './x509';
import type { CredentialsType, ProvisionOptions, ResolvedOptions } from './types';

export const CREDENTIALS_TYPES: readonly CredentialsType[] = ['X509_CERTIFICATE', 'ACCESS_TOKEN', 'MQTT_BASIC'];

export const DEFAULTS = {
  credentialsType: 'X509_CERTIFICATE' as CredentialsType,
  keyAlgorithm: DEFAULT_KEY_ALGORITHM,
  validityDays: DEFAULT_VALIDITY_DAYS,
  ...SERVER_DEFAULTS,
};

/**
 * Checks everything that can be checked before anything is sent, including GridLinks' own
 * validator rules (protocol.md §2), so that a request the server would refuse never leaves.
 * Throws ProvisionError INVALID_INPUT with `details.field`.
 */
export function validateOptions(options: ProvisionOptions | Record<string, unknown>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'Provisioning options are required.');
  const given = options as Record<string, unknown>;
  const server = validateServer(given.server);
  const provisionDeviceKey = requiredString(given.provisionDeviceKey, 'provisionDeviceKey', "the device profile's provision device key");
  const provisionDeviceSecret = requiredString(given.provisionDeviceSecret, 'provisionDeviceSecret', "the device profile's provision device secret");

  const deviceName = validateDeviceName(given.deviceName);
  const credentialsType = oneOf(given.credentialsType, 'credentialsType', CREDENTIALS_TYPES, DEFAULTS.credentialsType);
  const resolved: ResolvedOptions = {
    server,
    provisionDeviceKey,
    provisionDeviceSecret,
    deviceName,
    credentialsType,
    gateway: optionalBoolean(given.gateway, 'gateway', false),
    keyAlgorithm: oneOf(given.keyAlgorithm, 'keyAlgorithm', KEY_ALGORITHMS, DEFAULTS.keyAlgorithm),
    validityDays: optionalInteger(given.validityDays, 'validityDays', 1, 36_500, DEFAULTS.validityDays),
    verify: optionalBoolean(given.verify, 'verify', false),
    storeDir: optionalString(given.storeDir, 'storeDir'),
    ifStored: oneOf(given.ifStored, 'ifStored', ['reuse', 'fail'] as const, 'reuse'),
  };

  const credentialFields = {
    token: optionalString(given.token, 'token'),
    clientId: optionalString(given.clientId, 'clientId'),
    username: optionalString(given.username, 'username'),
    password: optionalString(given.password, 'password'),
    certificate: optionalString(given.certificate, 'certificate'),
    privateKey: optionalString(given.privateKey, 'privateKey'),
    commonName: optionalString(given.commonName, 'commonName'),
  };
  const allowed: Record<CredentialsType, (keyof typeof credentialFields)[]> = {
    ACCESS_TOKEN: ['token'],
    MQTT_BASIC: ['clientId', 'username', 'password'],
    X509_CERTIFICATE: ['certificate', 'privateKey', 'commonName'],
  };
  for (const [field, value] of Object.entries(credentialFields)) {
    if (value !== undefined && !allowed[credentialsType].includes(field as keyof typeof credentialFields)) {
      throw invalid(field, `${field} does not apply to credentialsType ${credentialsType}; remove it or change credentialsType.`);
    }
  }

  if (credentialsType === 'ACCESS_TOKEN') {
    resolved.token = credentialFields.token;
    noControlCharacters(resolved.token, 'token');
    // Spaces are allowed: GridLinks stores them and they work as the MQTT user name (docs/http-provisioning.md, client strictness).
    if (resolved.token !== undefined && resolved.token.length > MAX_NAME_LENGTH) {
      throw invalid('token', `token must be at most ${MAX_NAME_LENGTH} characters.`);
    }
  } else if (credentialsType === 'MQTT_BASIC') {
    Object.assign(resolved, validateBasic(credentialFields.clientId, credentialFields.username, credentialFields.password));
  } else {
    Object.assign(resolved, validateX509(credentialFields.certificate, credentialFields.privateKey, credentialFields.commonName));
  }
  return resolved;
}

function validateBasic(clientId?: string, username?: string, password?: string): Partial<ResolvedOptions> {
  noControlCharacters(clientId, 'clientId');
  noControlCharacters(username, 'username');
  noControlCharacters(password, 'password');
  if (clientId === undefined && username === undefined) {
    throw invalid('clientId', 'MQTT_BASIC needs a clientId, a username, or both.');
  }
  if (password !== undefined && username === undefined) {
    throw invalid('password', 'MQTT_BASIC: a password needs a username (GridLinks refuses a password with a client id alone).');
  }
  return { clientId, username, password };
}

function validateX509(certificate?: string, privateKey?: string, commonName?: string): Partial<ResolvedOptions> {
  if (commonName !== undefined && certificate !== undefined) {
    throw invalid('commonName', 'commonName only applies to a generated certificate; remove it or the certificate.');
  }
  if (commonName !== undefined) {
    noControlCharacters(commonName, 'commonName');
    if (!commonName.trim() || commonName.length > 64) throw invalid('commonName', 'commonName must be 1 to 64 characters.');
  }
  if (certificate === undefined) {
    // A key without a certificate: the certificate is made here for that key.
    if (privateKey !== undefined) readSupportedKey(privateKey);
    return { commonName, privateKey };
  }

  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificate);
  } catch {
    throw invalid('certificate', 'certificate is not a readable X.509 certificate: give the PEM text (-----BEGIN CERTIFICATE----- ...).');
  }
  if (privateKey !== undefined) {
    let key: KeyObject;
    try {
      key = createPrivateKey(privateKey);
    } catch {
      throw invalid('privateKey', 'privateKey is not a readable unencrypted PEM private key.');
    }
    if (!parsed.checkPrivateKey(key)) {
      throw invalid('privateKey', 'privateKey does not belong to the certificate: give the key the certificate was issued for.');
    }
  }
  return { certificate: parsed.toString(), privateKey }; // OpenSSL's PEM: 64-character lines, like toPem
}

/** A private key given without a certificate gets a new certificate: it must be a kind GridLinks devices use. */
function readSupportedKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw invalid('privateKey', 'privateKey is not a readable unencrypted PEM private key.');
  }
  if (!isSupportedDeviceKey(key)) {
    throw invalid('privateKey', `privateKey is ${describeKey(key)}: it must be ${DEVICE_KEY_POLICY} to get a certificate made for it.`);
  }
  return key;
}
