export { DEFAULT_VALIDITY_DAYS, createSelfSignedCertificate, generateDeviceCertificate, toPem } from './certificate';
export { certificateCredentialsId, sha3Hex, trimCertificate } from './credential-hash';
export { readCertificateSigningRequest } from './csr';
export { certificateIssuer, issueLeafCertificate, leafValidityWarning } from './issuer';
export { createFleetCa, type FleetCa, type FleetCaRequest } from './fleet-ca';
