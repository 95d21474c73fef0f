import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ProvisionError } from './errors';
import { certificatesOnly } from './ca-bundle';
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, SUPPORTED_CURVES } from './key-pair';
import type { CredentialsType, KeyAlgorithm, ProvisionOptions } from './types';

export const CREDENTIALS_TYPES: readonly CredentialsType[] = ['X509_CERTIFICATE', 'ACCESS_TOKEN', 'MQTT_BASIC'];
export { KEY_ALGORITHMS };

export const DEFAULTS = {
  credentialsType: 'X509_CERTIFICATE' as CredentialsType,
  keyAlgorithm: DEFAULT_KEY_ALGORITHM,
  validityDays: 3650,
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

/** Server options with every default filled in. */
export interface ResolvedServer {
  host: string;
  port: number;
  tls: boolean;
  ca?: string;
  servername?: string;
  rejectUnauthorized: boolean;
  protocolVersion: 4 | 5;
  connectTimeoutMs: number;
  answerTimeoutMs: number;
  transport: 'mqtt' | 'http';
  /** The MQTT port devices connect to: `port` for MQTT, `verifyPort` (or its default) for HTTP. */
  verifyPort: number;
  maxAnswerBytes: number;
}

/** ProvisionOptions after validation: defaults filled, empty strings dropped, device name trimmed. */
export interface ResolvedOptions {
  server: ResolvedServer;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  deviceName?: string;
  credentialsType: CredentialsType;
  gateway: boolean;
  token?: string;
  clientId?: string;
  username?: string;
  password?: string;
  keyAlgorithm: KeyAlgorithm;
  /** BYO certificate re-encoded as canonical PEM (one certificate, 64-column lines). */
  certificate?: string;
  privateKey?: string;
  validityDays: number;
  commonName?: string;
  verify: boolean;
  storeDir?: string;
  ifStored: 'reuse' | 'fail';
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const MAX_NAME_LENGTH = 255;

export function invalid(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field });
}

/** A string option: absent, null and '' all mean "not given". */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string.`);
  return value;
}

function requiredString(value: unknown, field: string, what: string): string {
  const text = optionalString(value, field);
  if (text === undefined) throw invalid(field, `${field} is required: ${what}.`);
  return text;
}

export function noControlCharacters(value: string | undefined, field: string): void {
  if (value !== undefined && CONTROL_CHARACTERS.test(value)) {
    throw invalid(field, `${field} must not contain control characters (GridLinks refuses them).`);
  }
}

export function optionalInteger(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw invalid(field, `${field} must be a whole number from ${min} to ${max}.`);
  }
  return number;
}

export function optionalBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalid(field, `${field} must be true or false.`);
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (!allowed.includes(value as T)) throw invalid(field, `${field} must be one of ${allowed.join(', ')}.`);
  return value as T;
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
  const protocolVersion = optionalInteger(given.protocolVersion, 'server.protocolVersion', 4, 5, DEFAULTS.protocolVersion);
  return {
    host,
    port,
    tls,
    ca,
    servername: optionalString(given.servername, 'server.servername'),
    rejectUnauthorized: optionalBoolean(given.rejectUnauthorized, 'server.rejectUnauthorized', true),
    protocolVersion: protocolVersion as 4 | 5,
    connectTimeoutMs: optionalInteger(given.connectTimeoutMs, 'server.connectTimeoutMs', 1, 600_000, DEFAULTS.connectTimeoutMs),
    answerTimeoutMs: optionalInteger(given.answerTimeoutMs, 'server.answerTimeoutMs', 1, 600_000, DEFAULTS.answerTimeoutMs),
    transport,
    verifyPort: mqttPort,
    maxAnswerBytes: optionalInteger(given.maxAnswerBytes, 'server.maxAnswerBytes', 1024, 16 * 1024 * 1024, DEFAULTS.maxAnswerBytes),
  };
}

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

export function validateDeviceName(value: unknown): string | undefined {
  const raw = optionalString(value, 'deviceName');
  if (raw === undefined) return undefined;
  const name = raw.trim();
  if (!name) throw invalid('deviceName', 'deviceName is only whitespace: give a name, or leave it empty to let GridLinks generate one.');
  if (name.length > MAX_NAME_LENGTH) throw invalid('deviceName', `deviceName must be at most ${MAX_NAME_LENGTH} characters.`);
  noControlCharacters(name, 'deviceName');
  return name;
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
  const details = key.asymmetricKeyDetails ?? {};
  const supported =
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' && details.namedCurve !== undefined && details.namedCurve in SUPPORTED_CURVES);
  if (!supported) throw invalid('privateKey', 'privateKey must be RSA (2048 bits or more) or EC P-256/P-384 to get a certificate made for it.');
  return key;
}
