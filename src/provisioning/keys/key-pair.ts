import { generateKeyPair } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import type { DeviceKeyPair, KeyAlgorithm } from '../types';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA-2048, like the GridLinks guide's script. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'rsa2048';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'];

/** EC curves GridLinks devices use, by OpenSSL name. */
export const SUPPORTED_CURVES: Readonly<Record<string, KeyAlgorithm>> = { prime256v1: 'p256', secp384r1: 'p384' };

export function isRsaAlgorithm(algorithm: KeyAlgorithm): boolean {
  return algorithm.startsWith('rsa');
}

/**
 * Who waits for an RSA key: a device being provisioned now, or a key pool filling up in the background.
 * A device's key may start whenever fewer than one per CPU are running (more adds no throughput, only
 * keeps libuv's pool from other flows' file and DNS work). A pool's key starts only when no device
 * waits and a CPU is left for the event loop: never more than one per spare CPU.
 */
export type KeyPriority = 'device' | 'pool';

const CPUS = availableParallelism();

/**
 * Devices' RSA generations at once: one per CPU (the most throughput), or GRIDLINKS_RSA_THREADS
 * (read at start) to keep CPUs free for the event loop at the cost of RSA devices per second.
 */
function deviceLimit(): number {
  const configured = Number(process.env.GRIDLINKS_RSA_THREADS);
  return Number.isInteger(configured) && configured >= 1 ? Math.min(configured, CPUS) : CPUS;
}

const LIMIT: Record<KeyPriority, number> = { device: deviceLimit(), pool: Math.max(1, Math.min(deviceLimit(), CPUS - 1)) };
const running: Record<KeyPriority, number> = { device: 0, pool: 0 };
const waiting: Record<KeyPriority, Array<() => void>> = { device: [], pool: [] };

function mayStart(priority: KeyPriority): boolean {
  if (priority === 'device') return running.device < LIMIT.device;
  return waiting.device.length === 0 && running.device + running.pool < LIMIT.pool;
}

function startWaiting(): void {
  for (const priority of ['device', 'pool'] as const) {
    while (waiting[priority].length > 0 && mayStart(priority)) {
      running[priority] += 1;
      waiting[priority].shift()!();
    }
  }
}

async function withRsaSlot<T>(priority: KeyPriority, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (waiting[priority].length === 0 && mayStart(priority)) running[priority] += 1;
  else await waitForSlot(priority, signal);
  try {
    return await work();
  } finally {
    running[priority] -= 1;
    startWaiting();
  }
}

/** Queues for a slot; an abort while queued leaves the queue (nothing started, nothing to release). */
function waitForSlot(priority: KeyPriority, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('key generation cancelled'));
    const onAbort = (): void => {
      const queue = waiting[priority];
      const index = queue.indexOf(start);
      if (index !== -1) queue.splice(index, 1);
      reject(new Error('key generation cancelled'));
    };
    const start = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    waiting[priority].push(start);
  });
}

/**
 * One key pair started ahead of time (see prefetchDeviceKeyPair), taken by the next request for its
 * algorithm. Kept on globalThis: the CLI's launcher starts it with its own copy of this module (a
 * separate bundle) and the command it then loads takes it.
 */
const PREFETCHED = Symbol.for('@gridlinks/node-red-gridlinks prefetched key pair');
const slot = globalThis as { [PREFETCHED]?: { algorithm: KeyAlgorithm; keyPair: Promise<DeviceKeyPair> } };

/**
 * Starts generating one key pair now, for the next generateDeviceKeyPair(algorithm) to take; nothing
 * when one is already under way for that algorithm. The CLI calls it before loading its MQTT and
 * ASN.1 modules, so the key is made while they load and while the connection is set up.
 */
export function prefetchDeviceKeyPair(algorithm: KeyAlgorithm): void {
  if (slot[PREFETCHED]?.algorithm === algorithm) return;
  const keyPair = makeKeyPair(algorithm, 'device', undefined, 'libuv');
  keyPair.catch(() => undefined);
  slot[PREFETCHED] = { algorithm, keyPair };
}

/** Generates the key pair natively off the event loop (RSA on a low-priority key thread, EC on libuv's pool). */
export function generateDeviceKeyPair(algorithm: KeyAlgorithm): Promise<DeviceKeyPair> {
  const prefetched = slot[PREFETCHED];
  if (prefetched?.algorithm === algorithm) {
    const { keyPair } = prefetched;
    slot[PREFETCHED] = undefined;
    return keyPair;
  }
  return newKeyPair(algorithm, 'device');
}

/**
 * Where an RSA key is made: on a low-priority key thread (key-threads.ts; long-running users: bulk,
 * nodes, key pools), or on libuv's pool (a one-shot process that cannot afford a thread's start-up).
 */
type RsaGenerator = 'key-thread' | 'libuv';

/** A new key pair at the given priority (key pools use 'pool'); `signal` cancels an RSA key still waiting for its turn. */
export function newKeyPair(algorithm: KeyAlgorithm, priority: KeyPriority, signal?: AbortSignal): Promise<DeviceKeyPair> {
  return makeKeyPair(algorithm, priority, signal, 'key-thread');
}

async function makeKeyPair(algorithm: KeyAlgorithm, priority: KeyPriority, signal: AbortSignal | undefined, rsaOn: RsaGenerator): Promise<DeviceKeyPair> {
  switch (algorithm) {
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096': {
      const modulusLength = Number(algorithm.slice(3));
      const generate =
        rsaOn === 'key-thread'
          ? // Loaded on first use: the one-shot CLI, which keeps its key on libuv, never loads worker_threads.
            () => (require('./key-threads') as typeof import('./key-threads')).rsaOnKeyThread(modulusLength)
          : () => generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 });
      return withRsaSlot(priority, generate, signal);
    }
    case 'p256':
      return generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
    case 'p384':
      return generateKeyPairAsync('ec', { namedCurve: 'secp384r1' });
  }
}
