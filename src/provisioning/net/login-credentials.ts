import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { AccessTokenCredentials, BasicCredentials, CredentialsType, DeviceCredentials, X509Credentials } from '../types';

/** MQTT's limit for a string field (client id, user name, password): a 16-bit length. */
const MQTT_STRING_BYTES = 65_535;

function tooLong(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const bytes = Buffer.byteLength(value);
  return bytes > MQTT_STRING_BYTES ? `the ${what} is ${bytes} bytes, more than MQTT's ${MQTT_STRING_BYTES}` : undefined;
}

/**
 * What makes credentials impossible to log in with before any socket is opened (mqtt.js and TLS would
 * throw while connecting): undefined when they can be tried, else what is wrong, without the secret.
 */
export function loginCredentialsProblem(credentialsType: CredentialsType, credentials: DeviceCredentials): string | undefined {
  switch (credentialsType) {
    case 'ACCESS_TOKEN':
      return tooLong((credentials as AccessTokenCredentials).accessToken, 'access token');
    case 'MQTT_BASIC': {
      const basic = credentials as BasicCredentials;
      return tooLong(basic.clientId, 'client id') ?? tooLong(basic.userName, 'user name') ?? tooLong(basic.password, 'password');
    }
    case 'X509_CERTIFICATE':
      return x509Problem(credentials as X509Credentials);
  }
}

function x509Problem(x509: X509Credentials): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(x509.certificate);
  } catch {
    return 'the certificate is not a readable PEM certificate';
  }
  if (x509.chain !== undefined) {
    for (const block of x509.chain.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) {
      try {
        new X509Certificate(block);
      } catch {
        return 'a certificate of the chain is not readable';
      }
    }
  }
  if (x509.privateKey === undefined) return undefined;
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(x509.privateKey))) return 'the private key does not belong to the certificate';
  } catch {
    return 'the private key is not a readable unencrypted PEM key';
  }
  return undefined;
}
