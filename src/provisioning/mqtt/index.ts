export { exchangeProvisionRequest } from './exchange';
export { REQUEST_TOPIC, RESPONSE_TOPIC, buildProvisionRequest } from './request';
export { acceptAnswer } from './response';
export { verifyCredentials } from './verify';
