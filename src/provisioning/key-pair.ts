import { generateKeyPair, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import type { KeyAlgorithm } from './types';

const generateKeyPairAsync = promisify(generateKeyPair);

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

/** Generates the key pair natively on libuv's thread pool: the event loop is never blocked. */
export async function generateDeviceKeyPair(algorithm: KeyAlgorithm): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
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
