export { provisionByChain } from './chain-provision';
export { isChainProvisionOptions } from './chain-types';
export type { ChainProvisionOptions } from './chain-types';
export { validateChainOptions } from './chain-options';
export { compileCnPattern, deviceNameFromCn, type ChainNameOutcome } from './chain-name';
export { commonNameValueOfCertificate, rfc4514Value } from './cn-value';
