import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { compileCnPattern } from '../../provisioning/chain';
import { sha3Hex, trimCertificate } from '../../provisioning/x509';
import type { ProfileConfig } from '../types';

/** GridLinks' editor default for the CN regular expression. */
export const DEFAULT_CN_PATTERN = '(.*)';

export interface ChainSettings {
  certificateRegExPattern: string;
  allowCreateNewDevices: boolean;
}

/**
 * A chain profile as GridLinks stores it: provisionDeviceSecret = the CA certificate PEM, provisionDeviceKey =
 * the SHA3-256 of that PEM trimmed like a device certificate. `caCertificate` is PEM text or a file name.
 */
export function chainProfileConfig(profile: ProfileConfig): ProfileConfig & { chain: ChainSettings } {
  const given = profile.caCertificate ?? '';
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(given.includes('-----BEGIN CERTIFICATE-----') ? given : readFileSync(given, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`chain profile ${profile.name ?? given}: caCertificate must be a PEM CA certificate or a file holding one${code ? ` (${code})` : ''}`, {
      cause: error,
    });
  }
  const caPem = `-----BEGIN CERTIFICATE-----\n${ca.raw.toString('base64')}\n-----END CERTIFICATE-----\n`;
  const certificateRegExPattern = profile.certificateRegExPattern ?? DEFAULT_CN_PATTERN;
  compileCnPattern(certificateRegExPattern);
  const provisionDeviceKey = sha3Hex(trimCertificate(caPem));
  if (wellKnownRootHashes().has(provisionDeviceKey)) {
    // GridLinks checks the profile certificate's hash against the JVM's trusted roots; Node's bundled roots stand in for them.
    throw new Error(
      `chain profile ${profile.name ?? ca.subject}: Device profile certificate cannot be well known root CA! (${ca.subject.replace(/\n/g, ', ')})`,
    );
  }
  return {
    ...profile,
    name: profile.name ?? `chain-${provisionDeviceKey.slice(0, 8)}`,
    provisionDeviceKey,
    provisionDeviceSecret: caPem,
    chain: { certificateRegExPattern, allowCreateNewDevices: profile.allowCreateNewDevices !== false },
  };
}

let rootHashes: Set<string> | undefined;

/** SHA3-256 (as provisionDeviceKey) of every root CA certificate Node trusts by default. */
function wellKnownRootHashes(): Set<string> {
  rootHashes ??= new Set(rootCertificates.map((pem) => sha3Hex(trimCertificate(pem))));
  return rootHashes;
}
