import { createHash } from 'node:crypto';

/** FIPS-202 SHA3-256, lower-case hex: GridLinks' EncryptionUtil.getSha3Hash. */
export function sha3Hex(text: string): string {
  return createHash('sha3-256').update(text, 'utf8').digest('hex');
}

/** GridLinks' `certTrimNewLines`: removes only the BEGIN/END lines' literal text and CR/LF (protocol.md §4). */
export function trimCertificate(pem: string): string {
  return pem
    .split('-----BEGIN CERTIFICATE-----')
    .join('')
    .split('-----END CERTIFICATE-----')
    .join('')
    .replace(/[\r\n]/g, '');
}

/** The X.509 credentialsId GridLinks stores: SHA3-256 hex of the trimmed certificate. */
export function certificateCredentialsId(pem: string): string {
  return sha3Hex(trimCertificate(pem));
}
