export { ConnectionPool, POOL_DEFAULTS, type PoolSettings, type PoolCounts, type PoolEvents, type ClosedDevice } from './connection-pool';
export { PER_MESSAGE_SAVINGS } from './device-connection';
export { buildDeviceAction, ACTIONS, type DeviceAction, type ActionKind } from './device-message';
export { identityFromMessage, sessionOptions, type DeviceIdentity } from './device-identity';
export { readStoredDevice } from './stored-device';
export * from './topics';
export { ReconnectBackoff, RECONNECT_DEFAULTS, type ReconnectSettings } from './reconnect-policy';
export { outboxPublisher } from './outbox-publisher';
