import { generateDeviceKeyPair } from '../keys';
import type { KeyAlgorithm } from '../types';
import { distinguishedName, signCertificate } from './certificate';
import { certificateCredentialsId } from './credential-hash';

export interface FleetCaRequest {
  commonName: string;
  validityDays: number;
  keyAlgorithm: KeyAlgorithm;
}

export interface FleetCa {
  /** PEM: what the device profile's "X.509 certificates chain" strategy takes. */
  certificate: string;
  /** PKCS#8 PEM: the signer key of chain provisioning; keep it secret. */
  privateKey: string;
  /** SHA3-256 of the certificate: GridLinks shows it as the profile's provision key. */
  provisionDeviceKey: string;
}

/** A self-signed CA for X.509 chain provisioning: CA:TRUE, pathlen 0, keyCertSign/cRLSign, native key and signature. */
export async function createFleetCa(request: FleetCaRequest): Promise<FleetCa> {
  const { publicKey, privateKey } = await generateDeviceKeyPair(request.keyAlgorithm);
  const name = distinguishedName(request.commonName);
  const certificate = await signCertificate({
    publicKey,
    subject: name,
    validityDays: request.validityDays,
    issuer: { name, privateKey },
    certificateAuthority: true,
  });
  return {
    certificate,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    provisionDeviceKey: certificateCredentialsId(certificate),
  };
}
