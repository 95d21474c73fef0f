export { provisionByChain } from './chain-provision';
export { isChainProvisionOptions } from './chain-types';
export type { ChainProvisionOptions } from './chain-types';
export { validateChainOptions } from './chain-options';
export { compileCnPattern } from './chain-name';
export { renewCertificate, notRenewable } from './renew';
export type { RenewOptions, RenewResult } from './renew';
