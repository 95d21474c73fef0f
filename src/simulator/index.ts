export { startSimulator, DEFAULT_SESSION_CLOSE_AFTER_ANSWER_MS } from './simulator';
export { createCertificate } from './tls';
export type { CertificateAndKey, CertificateRequest } from './tls';
export { sha3Hex, trimCertificate as certTrimNewLines } from '../provisioning/x509';
export { NOT_FOUND_MESSAGE, FAILURE_MESSAGE } from './provisioning';
export * from './types';
