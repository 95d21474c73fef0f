export { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, SUPPORTED_CURVES, generateDeviceKeyPair, isRsaAlgorithm, prefetchDeviceKeyPair } from './key-pair';
export { DEVICE_KEY_POLICY, describeKey, isSupportedDeviceKey } from './key-policy';
export { MAX_KEY_POOL_SIZE, checkKeyPool, createKeyPool, keyPairFor, sharedKeyPool, useSharedKeyPool } from './key-pool';
export type { SharedKeyPool } from './key-pool';
