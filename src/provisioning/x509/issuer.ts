import { X509Certificate, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import asn1 from 'node-forge/lib/asn1';
import { distinguishedName, fromDerOpaque, keyIdentifierOf, LEAF_BACKDATE_MS, signCertificate, validUntil, type CertificateIssuer } from './certificate';

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

export interface LeafRequest {
  /** The device's public key (generated here, or from its CSR). */
  publicKey: KeyObject;
  commonName: string;
  validityDays: number;
}

/**
 * The fleet CA that signs device certificates here: its certificate's subject becomes the leaf's issuer
 * (the DER copied byte for byte, so name chaining never depends on re-encoding), its subject key identifier
 * the leaf's authority key identifier. The certificate and key are assumed to match (see chain-options.ts).
 */
export function certificateIssuer(signerCertificate: X509Certificate, signerKey: KeyObject): CertificateIssuer {
  const tbs = (fromDerOpaque(signerCertificate.raw).value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
  const offset = isContextTag(tbs[0], 0) ? 1 : 0;
  const subject = tbs[offset + 4];
  const spki = tbs[offset + 5];
  return {
    name: subject,
    privateKey: signerKey,
    keyIdentifier: subjectKeyIdentifierOf(tbs) ?? keyIdentifierOf(spki),
    notAfter: new Date(signerCertificate.validTo),
  };
}

/** The SKI extension's key identifier, if the certificate has one. */
function subjectKeyIdentifierOf(tbs: forge.asn1.Asn1[]): Buffer | undefined {
  const wrapper = tbs.find((item) => isContextTag(item, 3));
  const extensions = ((wrapper?.value as forge.asn1.Asn1[] | undefined)?.[0]?.value ?? []) as forge.asn1.Asn1[];
  for (const extension of extensions) {
    const parts = extension.value as forge.asn1.Asn1[];
    const id = asn1.derToOid(parts[0].value as string);
    if (id !== SUBJECT_KEY_IDENTIFIER) continue;
    const inner = fromDerOpaque(octetsOf(parts[parts.length - 1]));
    return octetsOf(inner);
  }
  return undefined;
}

/** The bytes of an OCTET STRING, whether node-forge kept them as a string or parsed them into children. */
function octetsOf(node: forge.asn1.Asn1): Buffer {
  if (typeof node.value === 'string') return Buffer.from(node.value, 'binary');
  return Buffer.from(node.value.map((child) => asn1.toDer(child).getBytes()).join(''), 'binary');
}

/** An explicit [n] tag (version [0], extensions [3]). */
function isContextTag(node: forge.asn1.Asn1, tag: number): boolean {
  return (node.tagClass as number) === (asn1.Class.CONTEXT_SPECIFIC as number) && (node.type as number) === tag;
}

/**
 * When a leaf issued now for `validityDays` would outlive its signer: a warning saying until when it is
 * valid instead (the leaf's notAfter is capped at the signer's, as CAs do); undefined when it fits.
 */
export function leafValidityWarning(signerCertificate: X509Certificate, validityDays: number): string | undefined {
  const signerEnd = new Date(signerCertificate.validTo);
  if (validUntil(new Date(Date.now() - 60_000), validityDays) <= signerEnd) return undefined;
  return `The device certificate is valid until ${signerEnd.toISOString()} only, not ${validityDays} days: it cannot outlive its signer (${signerCertificate.subject.replace(/\n/g, ', ')}), which expires then. Renew the signer and issue new device certificates before that date.`;
}

/** A device certificate signed by the fleet CA (the TBS layout of certificate.ts, CA:false, clientAuth, notAfter capped at the signer's). */
export function issueLeafCertificate(request: LeafRequest, issuer: CertificateIssuer): Promise<string> {
  return signCertificate({
    publicKey: request.publicKey,
    subject: distinguishedName(request.commonName),
    validityDays: request.validityDays,
    issuer,
    backdateMs: LEAF_BACKDATE_MS,
  });
}
