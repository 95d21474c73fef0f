import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import asn1 = require('node-forge/lib/asn1');
import { generateDeviceKeyPair } from '../keys';
import type { KeyAlgorithm } from '../types';

/** A device key pair and its self-signed certificate, both PEM. */
export interface DeviceCertificate {
  certificate: string;
  /** PKCS#8 PEM. */
  privateKey: string;
}

/** A generated certificate's validity when none is given (10 years, as the GridLinks guide's script). */
export const DEFAULT_VALIDITY_DAYS = 3650;

export interface CertificateRequest {
  commonName: string;
  validityDays: number;
  keyAlgorithm: KeyAlgorithm;
}

const OID = {
  rsaSignatureSha256: '1.2.840.113549.1.1.11',
  ecdsaSignatureSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/**
 * A new key pair and a self-signed X.509 v3 certificate (subject = issuer = CN, SHA-256 signature).
 * node-forge only lays out the ASN.1; keygen and signing are Node's native async crypto.
 */
export async function generateDeviceCertificate(request: CertificateRequest): Promise<DeviceCertificate> {
  const { publicKey, privateKey } = await generateDeviceKeyPair(request.keyAlgorithm);
  const certificate = await createSelfSignedCertificate(publicKey, privateKey, request);
  return { certificate, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export async function createSelfSignedCertificate(
  publicKey: KeyObject,
  privateKey: KeyObject,
  request: Pick<CertificateRequest, 'commonName' | 'validityDays'>,
): Promise<string> {
  const name = distinguishedName(request.commonName);
  return signCertificate({ publicKey, subject: name, validityDays: request.validityDays, issuer: { name, privateKey } });
}

/** Who signs a certificate: its subject name (DER, copied as is), key identifier and private key. */
export interface CertificateIssuer {
  name: forge.asn1.Asn1;
  privateKey: KeyObject;
  /** The issuer's subject key identifier, written as the authority key identifier (absent for self-signed). */
  keyIdentifier?: Buffer;
  /** When the issuer's own certificate expires: a certificate it signs never outlives it (absent for self-signed). */
  notAfter?: Date;
}

export interface LeafTemplate {
  publicKey: KeyObject;
  subject: forge.asn1.Asn1;
  validityDays: number;
  issuer: CertificateIssuer;
  /** A CA that signs device certificates (CA:TRUE, pathlen 0, keyCertSign/cRLSign) instead of a device leaf. */
  certificateAuthority?: boolean;
  /** How far notBefore lies in the past (default 60 s): room for a server clock behind this one. */
  backdateMs?: number;
}

/**
 * notBefore of a device leaf signed by a fleet CA: one day back, as common CAs do. GridLinks creates or rotates
 * a chain device during the TLS handshake and refuses a "not yet valid" leaf only at the CONNECT: a leaf that a
 * server clock behind ours sees as not valid yet would leave a device behind and log nothing in.
 */
export const LEAF_BACKDATE_MS = 86_400_000;

/** The end of a certificate's validity: `validityDays` after `notBefore`, capped at its issuer's own end. */
export function validUntil(notBefore: Date, validityDays: number, issuerNotAfter?: Date): Date {
  const wanted = notBefore.getTime() + validityDays * 86_400_000;
  return new Date(issuerNotAfter === undefined ? wanted : Math.min(wanted, issuerNotAfter.getTime()));
}

/**
 * The one TBSCertificate layout of every certificate made here (self-signed or CA-signed device leaf):
 * v3, random serial, SHA-256 signature by the issuer's key type, basicConstraints CA:false, keyUsage
 * digitalSignature (+ keyEncipherment for RSA), extKeyUsage clientAuth, subject key identifier, and the
 * authority key identifier when an issuer's is known. Signed with native async crypto.sign.
 */
export async function signCertificate(template: LeafTemplate): Promise<string> {
  const { publicKey, issuer } = template;
  const signerType = issuer.privateKey.asymmetricKeyType;
  const signatureOid = signerType === 'rsa' ? OID.rsaSignatureSha256 : OID.ecdsaSignatureSha256;
  const signatureAlgorithm = algorithmIdentifier(signatureOid, signerType === 'rsa');
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  // Keep BIT STRINGs opaque so the SPKI re-encodes byte for byte.
  const spki = fromDerOpaque(spkiDer);
  const now = Date.now();
  const notBefore = new Date(now - (template.backdateMs ?? 60_000));
  const notAfter = validUntil(new Date(now - 60_000), template.validityDays, issuer.notAfter);

  const tbs = sequence([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [integer('\x02')]),
    integer(randomSerial()),
    signatureAlgorithm,
    issuer.name,
    sequence([time(notBefore), time(notAfter)]),
    template.subject,
    spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [
      sequence(
        template.certificateAuthority
          ? caExtensions(spki, issuer.keyIdentifier)
          : extensions(spki, publicKey.asymmetricKeyType === 'rsa', issuer.keyIdentifier),
      ),
    ]),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = await signAsync(tbsDer, issuer.privateKey);
  const certificate = sequence([tbs, signatureAlgorithm, bitString(signature)]);
  return toPem(Buffer.from(asn1.toDer(certificate).getBytes(), 'binary'));
}

/** DER to node-forge ASN.1 with BIT STRINGs left opaque (they re-encode byte for byte). */
export function fromDerOpaque(der: Buffer): forge.asn1.Asn1 {
  return (asn1.fromDer as unknown as (bytes: string, options: object) => forge.asn1.Asn1)(der.toString('binary'), { decodeBitStrings: false });
}

/** The callback form of crypto.sign runs on the thread pool. */
function signAsync(data: Buffer, privateKey: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign('sha256', data, privateKey, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}

/** PEM with 64-character lines, as GridLinks' hash rule expects (CR/LF and BEGIN/END lines are stripped). */
export function toPem(der: Buffer): string {
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
export function keyIdentifierOf(spki: forge.asn1.Asn1): Buffer {
  const subjectPublicKey = (spki.value as forge.asn1.Asn1[])[1].value as string;
  return createHash('sha1')
    .update(Buffer.from(subjectPublicKey.slice(1), 'binary'))
    .digest();
}

function extensions(spki: forge.asn1.Asn1, isRsa: boolean, authorityKeyIdentifier?: Buffer): forge.asn1.Asn1[] {
  // keyUsage bits: digitalSignature (bit 0) [+ keyEncipherment (bit 2) for RSA]
  const keyUsageBits = isRsa ? '\x05\xa0' : '\x07\x80';
  return [
    extension(OID.basicConstraints, true, sequence([])),
    extension(OID.keyUsage, true, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, keyUsageBits)),
    extension(OID.extKeyUsage, false, sequence([oid(OID.clientAuth)])),
    ...keyIdentifiers(spki, authorityKeyIdentifier),
  ];
}

/** A fleet CA: CA:TRUE with pathlen 0 (it signs device certificates only), keyCertSign and cRLSign. */
function caExtensions(spki: forge.asn1.Asn1, authorityKeyIdentifier?: Buffer): forge.asn1.Asn1[] {
  const caTrue = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff');
  // keyUsage bits: keyCertSign (bit 5) + cRLSign (bit 6), one unused bit
  return [
    extension(OID.basicConstraints, true, sequence([caTrue, integer('\x00')])),
    extension(OID.keyUsage, true, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x01\x06')),
    ...keyIdentifiers(spki, authorityKeyIdentifier),
  ];
}

function keyIdentifiers(spki: forge.asn1.Asn1, authorityKeyIdentifier?: Buffer): forge.asn1.Asn1[] {
  const subject = extension(
    OID.subjectKeyIdentifier,
    false,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keyIdentifierOf(spki).toString('binary')),
  );
  if (authorityKeyIdentifier === undefined) return [subject];
  const authority = sequence([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, authorityKeyIdentifier.toString('binary'))]);
  return [subject, extension(OID.authorityKeyIdentifier, false, authority)];
}

function extension(id: string, critical: boolean, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  const parts = [oid(id)];
  if (critical) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'));
  parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()));
  return sequence(parts);
}

export function distinguishedName(commonName: string): forge.asn1.Asn1 {
  const utf8 = Buffer.from(commonName, 'utf8').toString('binary');
  const attribute = sequence([oid(OID.commonName), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, utf8)]);
  return sequence([asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [attribute])]);
}

function algorithmIdentifier(id: string, withNullParameters: boolean): forge.asn1.Asn1 {
  const parts = [oid(id)];
  if (withNullParameters) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''));
  return sequence(parts);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): forge.asn1.Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

/** 16 random bytes, positive, minimal DER (first byte 0x40..0x7f). */
function randomSerial(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x3f) | 0x40;
  return serial.toString('binary');
}

function sequence(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function integer(bytes: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes);
}

function oid(id: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

function bitString(bytes: Buffer): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + bytes.toString('binary'));
}
