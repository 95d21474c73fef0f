import { generateKeyPair, randomBytes, sign, createPrivateKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);
const signAsync = promisify(sign);

export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  /** Sign with this CA; absent = self-signed. */
  issuer?: CertificateAndKey;
  isCA?: boolean;
  /** DNS names and IP addresses for subjectAltName. */
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

/**
 * RSA-2048 certificate: native async key generation, node-forge lays out the TBSCertificate,
 * native crypto.sign signs it (no pure-JS RSA on the event loop).
 */
export async function createCertificate(request: CertificateRequest): Promise<CertificateAndKey> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = randomSerialHex();
  const now = Date.now();
  cert.validity.notBefore = request.notBefore ?? new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = request.notAfter ?? new Date(now + 10 * 365 * 24 * 60 * 60 * 1000);
  const subject = [{ name: 'commonName', value: request.commonName }];
  cert.setSubject(subject);
  let signingKey: KeyObject = privateKey;
  if (request.issuer) {
    const issuerCert = forge.pki.certificateFromPem(request.issuer.certPem);
    cert.setIssuer(issuerCert.subject.attributes);
    signingKey = createPrivateKey(request.issuer.keyPem);
  } else {
    cert.setIssuer(subject);
  }
  const extensions: object[] = [
    { name: 'basicConstraints', cA: request.isCA === true, critical: true },
    request.isCA
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (!request.isCA) extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
  const altNames = [...(request.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);

  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  const tbs = forge.asn1.toDer((forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)).getBytes();
  const signature = await signAsync('sha256', Buffer.from(tbs, 'binary'), signingKey);
  cert.signature = signature.toString('binary');
  const certPem = forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
  return { certPem, keyPem };
}
