export { provisionByChain } from './chain-provision';
export { isChainProvisionOptions } from './chain-types';
export type { ChainProvisionOptions } from './chain-types';
export { validateChainOptions } from './chain-options';
export { renewCertificate, notRenewable } from './renew';
export type { RenewOptions, RenewResult } from './renew';
export { compileCnPattern, deviceNameFromCn, type ChainNameOutcome } from './chain-name';
export { commonNameValueOfCertificate, rfc4514Value } from './cn-value';
