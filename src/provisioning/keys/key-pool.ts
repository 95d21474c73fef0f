import { ProvisionError } from '../errors';
import { KEY_ALGORITHMS, generateDeviceKeyPair, isRsaAlgorithm, newKeyPair } from './key-pair';
import type { DeviceKeyPair, KeyAlgorithm, KeyPool, KeyPoolOptions, KeyPoolState } from '../types';

export type { KeyPool, KeyPoolOptions, KeyPoolState };

/** Most keys one pool keeps ready (an RSA-2048 private key object is a few KB of native memory). */
export const MAX_KEY_POOL_SIZE = 256;

function invalid(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field });
}

export function createKeyPool(options: KeyPoolOptions): KeyPool {
  const given = (options ?? {}) as Partial<KeyPoolOptions>;
  if (!KEY_ALGORITHMS.includes(given.algorithm as KeyAlgorithm)) {
    throw invalid('keyPool.algorithm', `keyPool.algorithm must be one of ${KEY_ALGORITHMS.join(', ')}.`);
  }
  const size = given.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_KEY_POOL_SIZE) {
    throw invalid('keyPool.size', `keyPool.size must be a whole number from 1 to ${MAX_KEY_POOL_SIZE}.`);
  }
  return new MemoryKeyPool(given.algorithm as KeyAlgorithm, size);
}

/** For provisionDevice's `keyPool` option: a pool made by createKeyPool, or undefined. */
export function checkKeyPool(value: unknown): KeyPool | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof MemoryKeyPool)) throw invalid('keyPool', 'keyPool must be a pool made by createKeyPool().');
  return value;
}

/** A ready key from the pool when it is for this algorithm and not empty; otherwise a fresh key, as without a pool. */
export async function keyPairFor(algorithm: KeyAlgorithm, pool: KeyPool | undefined): Promise<DeviceKeyPair> {
  return (pool?.algorithm === algorithm ? pool.take() : undefined) ?? generateDeviceKeyPair(algorithm);
}

class MemoryKeyPool implements KeyPool {
  private readonly ready: DeviceKeyPair[] = [];
  private generating: Promise<void> | undefined;
  private closed = false;
  /** Set when a generation failed: no retry until the next take(), so a broken OpenSSL cannot spin. */
  private stalled = false;
  private readonly listeners = new Set<(state: KeyPoolState) => void>();
  private fullWaiters: Array<() => void> = [];
  /** Cancels a refill still waiting for a spare CPU when the pool closes. */
  private readonly closing = new AbortController();

  constructor(
    readonly algorithm: KeyAlgorithm,
    private capacity: number,
  ) {
    this.refill();
  }

  get size(): number {
    return this.capacity;
  }

  /** Used by the shared pools: several nodes asking for different sizes get the largest. */
  resize(size: number): void {
    this.capacity = size;
    this.ready.splice(size);
    this.refill();
    this.changed();
  }

  take(): DeviceKeyPair | undefined {
    const keyPair = this.ready.shift();
    this.stalled = false;
    this.refill();
    if (keyPair) this.changed();
    return keyPair;
  }

  state(): KeyPoolState {
    return { algorithm: this.algorithm, size: this.capacity, ready: this.ready.length, refilling: this.generating !== undefined, closed: this.closed };
  }

  onChange(listener: (state: KeyPoolState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  whenFull(): Promise<void> {
    if (this.closed || this.ready.length >= this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.fullWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.closing.abort();
      this.ready.length = 0;
      this.changed();
      this.listeners.clear();
    }
    await this.generating;
  }

  private refill(): void {
    if (this.closed || this.stalled || this.generating !== undefined) return;
    if (this.ready.length >= this.capacity) {
      this.fullWaiters.splice(0).forEach((resolve) => resolve());
      return;
    }
    this.generating = newKeyPair(this.algorithm, isRsaAlgorithm(this.algorithm) ? 'pool' : 'device', this.closing.signal).then(
      (keyPair) => {
        if (!this.closed && this.ready.length < this.capacity) this.ready.push(keyPair);
      },
      () => {
        this.stalled = !this.closed;
        this.fullWaiters.splice(0).forEach((resolve) => resolve());
      },
    );
    void this.generating.then(() => {
      this.generating = undefined;
      this.refill();
      this.changed();
    });
  }

  private changed(): void {
    if (this.closed) this.fullWaiters.splice(0).forEach((resolve) => resolve());
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }
}

export interface SharedKeyPool {
  pool: KeyPool;
  /** This user is done with the pool; the last one closes it, dropping its keys. */
  release(): Promise<void>;
}

/** Process-wide pools, one per algorithm, shared by every user (provision nodes); sized to the largest request. */
const shared = new Map<KeyAlgorithm, { pool: MemoryKeyPool; sizes: Map<symbol, number> }>();

/** The process-wide pool for an algorithm while some user holds it (for status and measurements). */
export function sharedKeyPool(algorithm: KeyAlgorithm): KeyPool | undefined {
  return shared.get(algorithm)?.pool;
}

export function useSharedKeyPool(algorithm: KeyAlgorithm, size: number): SharedKeyPool {
  let entry = shared.get(algorithm);
  if (!entry) {
    entry = { pool: createKeyPool({ algorithm, size }) as MemoryKeyPool, sizes: new Map() };
    shared.set(algorithm, entry);
  }
  const user = Symbol('key pool user');
  entry.sizes.set(user, size);
  if (size > entry.pool.size) entry.pool.resize(size);
  const current = entry;
  let released = false;
  return {
    pool: current.pool,
    release: async () => {
      if (released) return;
      released = true;
      current.sizes.delete(user);
      if (current.sizes.size > 0) {
        current.pool.resize(Math.max(...current.sizes.values()));
        return;
      }
      if (shared.get(algorithm) === current) shared.delete(algorithm);
      await current.pool.close();
    },
  };
}
