import { X509Certificate } from 'node:crypto';
import { CERTIFICATE_FILE, CREDENTIALS_FILE, PRIVATE_KEY_FILE } from './store';
import type { ProvisionResult, X509Credentials } from '../types';

/** X.509 chain provisioning: the signer and the certificates above it, presented after certificate.pem. */
export const CHAIN_FILE = 'chain.pem';
/** A renewal's new certificate (and key, when a new one was asked for), written before its login; renamed into place after it. */
export const NEXT_CERTIFICATE_FILE = 'certificate.next.pem';
export const NEXT_PRIVATE_KEY_FILE = 'private-key.next.pem';
/** The certificate (and key) a renewal replaced, kept until the new one has logged in once more. */
export const PREVIOUS_CERTIFICATE_FILE = 'certificate.previous.pem';
export const PREVIOUS_PRIVATE_KEY_FILE = 'private-key.previous.pem';

/** The end of validity of a PEM certificate, ISO 8601; undefined when it cannot be read. */
export function certificateNotAfter(pem: string | undefined): string | undefined {
  if (pem === undefined) return undefined;
  try {
    return new Date(new X509Certificate(pem).validTo).toISOString();
  } catch {
    return undefined;
  }
}

/** The files a successful result is stored as (file name → content); PEM material in files of its own. */
export function storedFiles(result: ProvisionResult): Record<string, string> {
  const files: Record<string, string> = {};
  let credentials: unknown = result.credentials;
  if (result.credentialsType === 'X509_CERTIFICATE') {
    const x509 = result.credentials as X509Credentials;
    files[CERTIFICATE_FILE] = x509.certificate;
    if (x509.privateKey !== undefined) files[PRIVATE_KEY_FILE] = x509.privateKey;
    if (x509.chain !== undefined) files[CHAIN_FILE] = x509.chain;
    credentials = {
      credentialsId: x509.credentialsId,
      certificateFile: CERTIFICATE_FILE,
      ...(x509.chain !== undefined ? { chainFile: CHAIN_FILE } : {}),
      ...(x509.privateKey !== undefined ? { privateKeyFile: PRIVATE_KEY_FILE } : {}),
    };
  }
  const record = {
    deviceName: result.deviceName,
    credentialsType: result.credentialsType,
    credentials,
    ...(result.credentialsType === 'X509_CERTIFICATE' ? { notAfter: certificateNotAfter((result.credentials as X509Credentials).certificate) } : {}),
    server: result.server,
    ...(result.gateway ? { gateway: true } : {}),
    provisionedAt: new Date().toISOString(),
  };
  files[CREDENTIALS_FILE] = `${JSON.stringify(record, null, 2)}\n`;
  return files;
}
