import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { DEFAULT_VALIDITY_DAYS, toPem } from '../x509';
import { compileCnPattern, deviceNameFromCn } from './chain-name';
import { randomNameWarning } from './chain-warnings';
import { rfc4514Value } from './cn-value';
import type { ChainProvisionOptions } from './chain-types';
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS } from '../keys';
import { invalid, noControlCharacters, oneOf, optionalBoolean, optionalInteger, optionalString, validateDeviceName } from '../fields';
import { validateServer } from '../net';
import type { ResolvedServer, KeyAlgorithm } from '../types';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** The most certificates presented (signer and those above it): real fleet chains have 2 to 4. */
export const MAX_CHAIN_CERTIFICATES = 10;
/** The most PEM text given for the signer and the chain together. */
export const MAX_CHAIN_BYTES = 64 * 1024;
/** Options of the key/secret path that have no meaning here. */
const NOT_FOR_CHAIN = ['provisionDeviceKey', 'provisionDeviceSecret', 'token', 'clientId', 'username', 'password', 'certificate', 'privateKey', 'gateway'];

export interface ResolvedChainOptions {
  server: ResolvedServer;
  signerCertificate: X509Certificate;
  signerKey: KeyObject;
  /** Canonical PEM of the signer, then of every certificate above it. */
  chainPem: string;
  deviceName?: string;
  commonName?: string;
  certificateRegExPattern?: string;
  csr?: string;
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  verify: boolean;
  storeDir?: string;
  ifStored: 'reuse' | 'fail';
  /** Found while checking, before anything is made or sent (a CN that GridLinks would give a random name). */
  warnings: string[];
}

function certificatesIn(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw invalid(field, `${field} must be PEM text (-----BEGIN CERTIFICATE----- ...), not a file name.`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw invalid(field, `Certificate ${index + 1} of ${field} cannot be read: check that the PEM was copied completely.`);
    }
  });
}

function readSignerKey(pem: string, signer: X509Certificate): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw invalid('signerKey', 'signerKey is not a readable unencrypted PEM private key (decrypt it first: openssl pkey -in key.pem -out plain.pem).');
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') throw invalid('signerKey', 'signerKey must be an RSA or EC key.');
  if (!signer.checkPrivateKey(key))
    throw invalid('signerKey', 'signerKey does not belong to signerCertificate: give the private key of the profile CA certificate.');
  return key;
}

/** A chain is sent in every TLS login: bound it before any certificate is parsed. */
function checkChainBounds(signerPem: string, chainText: string | undefined): void {
  const bytes = Buffer.byteLength(signerPem) + (chainText === undefined ? 0 : Buffer.byteLength(chainText));
  if (bytes > MAX_CHAIN_BYTES) {
    throw invalid(
      'chain',
      `signerCertificate and chain hold ${bytes} bytes, more than ${MAX_CHAIN_BYTES / 1024} KiB: give only the signer and the certificates above it, up to the root.`,
    );
  }
  const count = (signerPem.match(PEM_CERTIFICATE)?.length ?? 0) + (chainText?.match(PEM_CERTIFICATE)?.length ?? 0);
  if (count > MAX_CHAIN_CERTIFICATES) {
    throw invalid(
      'chain',
      `signerCertificate and chain hold ${count} certificates, more than ${MAX_CHAIN_CERTIFICATES}: give only the signer and the certificates above it, up to the root.`,
    );
  }
}

/** Every link must verify before anything is sent: GridLinks drops a chain with a broken link. */
function checkLinks(certificates: X509Certificate[]): void {
  const now = Date.now();
  certificates.forEach((certificate, index) => {
    const what = index === 0 ? 'signerCertificate' : `certificate ${index} of chain`;
    if (!certificate.ca)
      throw invalid(
        index === 0 ? 'signerCertificate' : 'chain',
        `${what} (${certificate.subject}) is not a CA certificate (basicConstraints CA:TRUE): it cannot sign device certificates.`,
      );
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
      throw invalid(
        index === 0 ? 'signerCertificate' : 'chain',
        `${what} (${certificate.subject}) is expired or not valid yet (${certificate.validFrom} – ${certificate.validTo}).`,
      );
    }
    const parent = certificates[index + 1];
    if (parent !== undefined && !(certificate.checkIssued(parent) && certificate.verify(parent.publicKey))) {
      throw invalid(
        'chain',
        `The chain is broken: ${what} (${certificate.subject}) is not signed by the next certificate (${parent.subject}). Order it from the signer up to the root, each certificate signed by the next.`,
      );
    }
  });
}

/** Checks a chain request before any key is made or anything is sent. Throws ProvisionError INVALID_INPUT. */
export function validateChainOptions(options: ChainProvisionOptions | Record<string, unknown>): ResolvedChainOptions {
  const given = options as Record<string, unknown>;
  const server = validateServer(given.server);
  if (!server.tls) throw invalid('server.tls', 'X.509 chain provisioning works over MQTT over TLS only: turn TLS on (port usually 8883).');
  if (server.transport !== 'mqtt')
    throw invalid(
      'server.transport',
      'X.509 chain provisioning has no HTTP request: the device is created by its MQTT over TLS login. Use the MQTT transport.',
    );
  for (const field of NOT_FOR_CHAIN) {
    if (given[field] !== undefined && given[field] !== null && given[field] !== '') {
      throw invalid(
        field,
        `${field} does not apply to X509_CERTIFICATE_CHAIN (the device is created by its certificate); remove it or change credentialsType.`,
      );
    }
  }
  const signerPem = optionalString(given.signerCertificate, 'signerCertificate');
  if (signerPem === undefined) throw invalid('signerCertificate', "signerCertificate is required: the PEM of the device profile's X.509 CA certificate.");
  const keyPem = optionalString(given.signerKey, 'signerKey');
  if (keyPem === undefined) throw invalid('signerKey', 'signerKey is required: the private key of signerCertificate.');
  const chainText = optionalString(given.chain, 'chain');
  checkChainBounds(signerPem, chainText);
  // Extra certificates after the signer in signerCertificate belong to the chain above it.
  const certificates = [...certificatesIn(signerPem, 'signerCertificate'), ...(chainText === undefined ? [] : certificatesIn(chainText, 'chain'))];
  const signerKey = readSignerKey(keyPem, certificates[0]);
  checkLinks(certificates);

  const commonName = optionalString(given.commonName, 'commonName');
  if (commonName !== undefined) {
    noControlCharacters(commonName, 'commonName');
    if (!commonName.trim() || commonName.length > 64) throw invalid('commonName', 'commonName must be 1 to 64 characters.');
  }
  const certificateRegExPattern = optionalString(given.certificateRegExPattern, 'certificateRegExPattern');
  if (certificateRegExPattern !== undefined) compileCnPattern(certificateRegExPattern);
  const csr = optionalString(given.csr, 'csr');
  const deviceName = validateDeviceName(given.deviceName);
  const knownCn = commonName ?? (csr === undefined ? deviceName : undefined);
  const warnings: string[] = [];
  if (certificateRegExPattern !== undefined && knownCn !== undefined && deviceNameFromCn(rfc4514Value(knownCn), certificateRegExPattern).kind === 'random') {
    warnings.push(randomNameWarning(knownCn, certificateRegExPattern));
  }
  return {
    warnings,
    server,
    signerCertificate: certificates[0],
    signerKey,
    chainPem: certificates.map((certificate) => toPem(certificate.raw)).join(''),
    deviceName,
    commonName,
    certificateRegExPattern,
    csr,
    keyAlgorithm: oneOf(given.keyAlgorithm, 'keyAlgorithm', KEY_ALGORITHMS, DEFAULT_KEY_ALGORITHM),
    validityDays: optionalInteger(given.validityDays, 'validityDays', 1, 36_500, DEFAULT_VALIDITY_DAYS),
    verify: optionalBoolean(given.verify, 'verify', false),
    storeDir: optionalString(given.storeDir, 'storeDir'),
    ifStored: oneOf(given.ifStored, 'ifStored', ['reuse', 'fail'] as const, 'reuse'),
  };
}
