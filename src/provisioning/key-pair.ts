import { generateKeyPair, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import type { KeyAlgorithm } from './types';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA-2048, like the GridLinks guide's script. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'rsa2048';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'];

/** EC curves GridLinks devices use, by OpenSSL name. */
export const SUPPORTED_CURVES: Readonly<Record<string, KeyAlgorithm>> = { prime256v1: 'p256', secp384r1: 'p384' };

/**
 * RSA key generations running at once in this process. More than one per CPU adds no throughput; it
 * only keeps libuv's pool busy for other flows' file and DNS work and makes the event-loop thread
 * queue for a CPU.
 */
const rsaSlots = { free: availableParallelism(), waiting: [] as Array<() => void> };

async function withRsaSlot<T>(work: () => Promise<T>): Promise<T> {
  if (rsaSlots.free > 0) rsaSlots.free -= 1;
  else await new Promise<void>((resolve) => rsaSlots.waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = rsaSlots.waiting.shift();
    if (next) next();
    else rsaSlots.free += 1;
  }
}

export interface DeviceKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** One key pair started ahead of time (see prefetchDeviceKeyPair), taken by the next request for its algorithm. */
let prefetched: { algorithm: KeyAlgorithm; keyPair: Promise<DeviceKeyPair> } | undefined;

/**
 * Starts generating one key pair now, for the next generateDeviceKeyPair(algorithm) to take. The CLI
 * calls it before loading its MQTT and ASN.1 modules, so the key is made while they load and while the
 * connection is set up.
 */
export function prefetchDeviceKeyPair(algorithm: KeyAlgorithm): void {
  const keyPair = newKeyPair(algorithm);
  keyPair.catch(() => undefined);
  prefetched = { algorithm, keyPair };
}

/** Generates the key pair natively on libuv's thread pool: the event loop is never blocked. */
export function generateDeviceKeyPair(algorithm: KeyAlgorithm): Promise<DeviceKeyPair> {
  if (prefetched?.algorithm === algorithm) {
    const { keyPair } = prefetched;
    prefetched = undefined;
    return keyPair;
  }
  return newKeyPair(algorithm);
}

async function newKeyPair(algorithm: KeyAlgorithm): Promise<DeviceKeyPair> {
  switch (algorithm) {
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096':
      return withRsaSlot(() => generateKeyPairAsync('rsa', { modulusLength: Number(algorithm.slice(3)), publicExponent: 0x10001 }));
    case 'p256':
      return generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
    case 'p384':
      return generateKeyPairAsync('ec', { namedCurve: 'secp384r1' });
  }
}
