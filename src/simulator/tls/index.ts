/** The door of the tls room: certificates the simulator makes, its server TLS material, and the check of a client's chain. */
export { createCertificate, type CertificateAndKey, type CertificateRequest } from './certificates';
export { prepareServerTls, type ServerTlsMaterial } from './tls-material';
export { brokenClientChainLink } from './client-chain';
