import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import asn1 from 'node-forge/lib/asn1';
import { fromDerOpaque } from './certificate';
import { ProvisionError } from '../errors';
import { DEVICE_KEY_POLICY, describeKey, isSupportedDeviceKey } from '../keys';

/** Signature algorithms a PKCS#10 request may use here, by OID → the hash crypto.verify takes and the key type it needs. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { hash: string; keyType: 'rsa' | 'ec'; name: string }>> = {
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyType: 'rsa', name: 'sha256WithRSAEncryption' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyType: 'rsa', name: 'sha384WithRSAEncryption' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyType: 'rsa', name: 'sha512WithRSAEncryption' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyType: 'ec', name: 'ecdsa-with-SHA256' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyType: 'ec', name: 'ecdsa-with-SHA384' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyType: 'ec', name: 'ecdsa-with-SHA512' },
};
const COMMON_NAME = '2.5.4.3';
const PEM_CSR = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/;

export interface CertificateSigningRequest {
  publicKey: KeyObject;
  /** The first CN of the request's subject, if any. */
  commonName?: string;
}

function invalidCsr(message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field: 'csr' });
}

/**
 * Reads a PEM PKCS#10 request (RSA or EC) and checks its self-signature with native async crypto.verify
 * (node-forge only reads the ASN.1; its CSR reader knows RSA alone and would verify in pure JS).
 */
export async function readCertificateSigningRequest(pem: string): Promise<CertificateSigningRequest> {
  const body = PEM_CSR.exec(pem)?.[2];
  if (body === undefined) throw invalidCsr('csr must be a PEM certificate request (-----BEGIN CERTIFICATE REQUEST----- ...).');
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  let info: Buffer;
  let subject: forge.asn1.Asn1;
  let spkiDer: Buffer;
  let algorithm: string;
  let signature: Buffer;
  try {
    const request = fromDerOpaque(der).value as forge.asn1.Asn1[];
    info = firstElementBytes(der);
    const fields = request[0].value as forge.asn1.Asn1[];
    subject = fields[1];
    spkiDer = Buffer.from(asn1.toDer(fields[2]).getBytes(), 'binary');
    algorithm = asn1.derToOid((request[1].value as forge.asn1.Asn1[])[0].value as string);
    const bits = request[2].value as string;
    signature = Buffer.from(bits.slice(1), 'binary');
  } catch {
    throw invalidCsr('csr cannot be read as a PKCS#10 certificate request: give the whole PEM text as the device made it.');
  }
  const signedWith = SIGNATURE_ALGORITHMS[algorithm];
  if (signedWith === undefined) throw invalidCsr(`csr is signed with an algorithm not accepted here (${algorithm}): use SHA-256/384/512 with RSA or ECDSA.`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw invalidCsr('csr holds a public key that cannot be read.');
  }
  if (!isSupportedDeviceKey(publicKey)) {
    throw invalidCsr(`csr's key is ${describeKey(publicKey)}, which is not accepted here: make the device key ${DEVICE_KEY_POLICY} and a new CSR.`);
  }
  if (publicKey.asymmetricKeyType !== signedWith.keyType) {
    throw invalidCsr(`csr claims ${signedWith.name} but its key is ${describeKey(publicKey)}: the signature algorithm does not match the key; make a new CSR.`);
  }
  const valid = await new Promise<boolean>((resolve) => {
    verify(signedWith.hash, info, publicKey, signature, (error, result) => resolve(!error && result));
  });
  if (!valid) throw invalidCsr("csr's signature does not verify: the request was altered or not signed with the key it carries.");
  return { publicKey, commonName: commonNameOf(subject) };
}

/** The exact DER bytes of the first element inside the outer SEQUENCE (what the signature covers). */
function firstElementBytes(der: Buffer): Buffer {
  const inner = der.subarray(headerLength(der, 0));
  return inner.subarray(0, headerLength(inner, 0) + contentLength(inner, 0));
}

function headerLength(der: Buffer, at: number): number {
  const first = der[at + 1];
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contentLength(der: Buffer, at: number): number {
  const first = der[at + 1];
  if (first < 0x80) return first;
  let length = 0;
  for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[at + 2 + i];
  return length;
}

/** The first CN of a Name; INVALID_INPUT when the subject is not a SEQUENCE of SETs of (OID, string) pairs. */
function commonNameOf(name: forge.asn1.Asn1): string | undefined {
  const malformed = () => invalidCsr("csr's subject is not a well-formed X.500 name: make the CSR again with a subject such as /CN=device-name.");
  const children = (node: forge.asn1.Asn1 | undefined, type: number): forge.asn1.Asn1[] => {
    if (node === undefined || (node.type as number) !== type || !Array.isArray(node.value)) throw malformed();
    return node.value;
  };
  for (const set of children(name, asn1.Type.SEQUENCE)) {
    for (const attribute of children(set, asn1.Type.SET)) {
      const [type, value] = children(attribute, asn1.Type.SEQUENCE);
      if (type === undefined || (type.type as number) !== (asn1.Type.OID as number) || typeof type.value !== 'string') throw malformed();
      if (value === undefined || typeof value.value !== 'string') throw malformed();
      if (asn1.derToOid(type.value) !== COMMON_NAME) continue;
      const bytes = Buffer.from(value.value, 'binary');
      return value.type === asn1.Type.BMPSTRING ? bytes.swap16().toString('utf16le') : bytes.toString(value.type === asn1.Type.UTF8 ? 'utf8' : 'latin1');
    }
  }
  return undefined;
}
