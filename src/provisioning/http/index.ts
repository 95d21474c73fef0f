export { exchangeProvisionRequestHttp } from './http-exchange';
