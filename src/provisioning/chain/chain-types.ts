import type { KeyPool, KeyAlgorithm, ServerOptions } from '../types';

/**
 * X.509 certificate-chain provisioning (GridLinks profile strategy X509_CERTIFICATE_CHAIN): this side
 * holds the fleet CA (the profile's CA certificate and its key), issues the device's certificate and
 * logs the device in over TLS, which creates it (or rotates its certificate). No provision key or secret.
 */
export interface ChainProvisionOptions {
  server: ServerOptions;
  credentialsType: 'X509_CERTIFICATE_CHAIN';
  /** PEM of the profile's CA certificate, which signs the device certificate. */
  signerCertificate: string;
  /** Its unencrypted private key (PEM, RSA or EC). */
  signerKey: string;
  /** PEM certificates above the signer (towards the root), presented too; optional. */
  chain?: string;
  /** The device name, also the default CN. */
  deviceName?: string;
  /** Subject CN of the device certificate (default: the CSR's CN, else deviceName). */
  commonName?: string;
  /** The profile's CN regular expression, to predict (and check) the name GridLinks derives: find() + group(1). */
  certificateRegExPattern?: string;
  /** PEM PKCS#10 request of a device that keeps its own key: the certificate is issued for it, nothing is connected. */
  csr?: string;
  /** Key algorithm of a generated device key (default rsa2048). */
  keyAlgorithm?: KeyAlgorithm;
  /** Validity of the device certificate in days (default 3650). */
  validityDays?: number;
  verify?: boolean;
  storeDir?: string;
  /** With a store, a device already stored there: 'reuse' (default) answers from the store, 'fail' refuses it (STORE). */
  ifStored?: 'reuse' | 'fail';
  /** Keys made ahead of time (createKeyPool), as on the key/secret path. */
  keyPool?: KeyPool;
}

export function isChainProvisionOptions(options: unknown): options is ChainProvisionOptions {
  return typeof options === 'object' && options !== null && (options as { credentialsType?: unknown }).credentialsType === 'X509_CERTIFICATE_CHAIN';
}
