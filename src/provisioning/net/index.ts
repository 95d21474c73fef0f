export { certificatesOnly } from './ca-bundle';
export { closeClient } from './close-client';
export { deviceConnectOptions, provisioningSessionOptions, transportOptions } from './connect-options';
export {
  aborted,
  answerTooLarge,
  closedBeforeSending,
  connectError,
  connectTimeout,
  errorCodeOf,
  outcomeUnknown,
  rejectedWithoutAnswer,
} from './connection-errors';
export { loginCredentialsProblem } from './login-credentials';
export { openMqttClient } from './mqtt-client';
export { PacketSizeGuard } from './packet-size-guard';
export { trustOnlySecureContext } from './secure-contexts';
export { SERVER_DEFAULTS, defaultPort, deviceEndpoint, validateServer } from './server';
export { looksLikeTls, plainClientOnTlsPort, speaksTls } from './tls-port-probe';
