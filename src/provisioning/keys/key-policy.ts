import type { KeyObject } from 'node:crypto';
import { SUPPORTED_CURVES } from './key-pair';

/** The only RSA public exponent accepted (F4, what every current tool makes). */
const RSA_EXPONENT = 65537n;
const MIN_RSA_BITS = 2048;

/** What the policy allows, for messages. */
export const DEVICE_KEY_POLICY = 'RSA (2048 bits or more, exponent 65537) or EC P-256/P-384';

/** A short description of a key for messages, e.g. "RSA 1024-bit", "EC secp256k1", "DSA". */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const name = key.asymmetricKeyType === 'rsa' ? 'RSA' : 'RSA-PSS';
      const exponent = details.publicExponent !== undefined && details.publicExponent !== RSA_EXPONENT ? ` with exponent ${details.publicExponent}` : '';
      return `${name} ${details.modulusLength ?? '?'}-bit${exponent}`;
    }
    case 'ec':
      return `EC ${details.namedCurve ?? 'with explicit curve parameters'}`;
    default:
      return (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  }
}

/**
 * The keys a device certificate is made or issued for here (GridLinks devices and TLS stacks): plain RSA
 * of 2048 bits or more with e = 65537, or EC P-256/P-384. The same rule for a given private key and a CSR.
 */
export function isSupportedDeviceKey(key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return (details.modulusLength ?? 0) >= MIN_RSA_BITS && details.publicExponent === RSA_EXPONENT;
  if (key.asymmetricKeyType === 'ec') return details.namedCurve !== undefined && details.namedCurve in SUPPORTED_CURVES;
  return false;
}
