/**
 * The door of the devices room: device sessions after the CONNECT, from the refusals and the authentication
 * to the broker (aedes, MQTT 5 bridged to 3.1.1) and its server side (RPCs, shared attributes).
 */
export { refusalByConnectFields } from './connect-refusal';
export { authenticateDevice } from './device-auth';
export { DeviceBroker, decodePayload, type DeviceBrokerOptions, type GatewayPublish } from './device-broker';
export type { DeviceControl, DeviceSession } from './device-control';
export { SessionWire } from './session-wire';
export { bridgeV5Connection } from './v5-bridge';
export { closeSessionsOnCredentialsUpdate } from './credentials-update';
